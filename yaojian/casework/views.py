"""Case-work pages 病例处理: reaction dictionary, coding queue, deadlines and timeliness, duplicate queue.

Reports are always narrowed with ``core.access.scoped``; the dictionary has no jurisdiction (it is
national), so its pages check the role only.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from yaojian.adr.models import AdrReport, ReactionTerm
from yaojian.core import access
from yaojian.core.views_generic import (
    PER_PAGE_CHOICES,
    ObjectListView,
    ParameterVersionView,
    ScopedMixin,
    export_table,
    field_rows,
    paginate,
    per_page,
)

from . import coding, deadlines, dedupe, dictionary, forms
from .config import active_config, publish_config
from .filtersets import DeadlineFilterSet, DuplicateFilterSet, ReportFilterSet, TermFilterSet, search_terms
from .models import CaseworkConfig, DuplicateCandidate
from .tables import DeadlineTable, DuplicateTable, QueueTable, TermTable, UnitTable


def _query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _reports(request):
    return access.scoped(AdrReport.objects.all(), request.user)


# --- dictionary 术语集 ---


class TermListView(ObjectListView):
    """不良反应术语集: search by term, code or synonym; SOC; active; export."""

    model = ReactionTerm
    filterset_class = TermFilterSet
    table_class = TermTable
    add_url_name = "casework:term-add"

    def get_queryset(self):
        return ReactionTerm.objects.annotate(n_synonyms=Count("synonyms"))  # national: no jurisdiction


class TermEditView(ScopedMixin, View):
    """新增/修改术语, and add synonyms; the existing synonyms are listed beside the form."""

    model = ReactionTerm
    template_name = "casework/term_form.html"

    @property
    def action(self):
        return access.CHANGE if "pk" in self.kwargs else access.ADD

    def get_instance(self):
        if "pk" not in self.kwargs:
            return ReactionTerm(dictionary=dictionary.YAOJIAN)
        term = ReactionTerm.objects.filter(pk=self.kwargs["pk"]).first()
        if term is None:
            raise Http404("未找到该术语")
        return term

    def render_form(self, form, term, status=200):
        synonyms = term.synonyms.order_by("text") if term.pk else []
        context = {"form": form, "term": term, "synonyms": synonyms}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, pk=None):
        term = self.get_instance()
        return self.render_form(forms.TermForm(instance=term), term)

    def post(self, request, pk=None):
        term = self.get_instance()
        form = forms.TermForm(request.POST, instance=term)
        if form.is_valid():
            try:
                term = dictionary.save_term(form.save(commit=False), actor=request.user, synonyms=form.synonyms())
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, f"已保存：{term}")
                return redirect("casework:term-edit", pk=term.pk)
        return self.render_form(form, term, status=400)


class TermSearchView(ScopedMixin, View):
    """Term picker 术语检索 (htmx fragment): up to 15 active terms matching the text, as radio buttons."""

    model = ReactionTerm

    def get(self, request):
        text = request.GET.get("term_q") or request.GET.get("q", "")
        terms = search_terms(ReactionTerm.objects.filter(active=True), text)[:15] if text.strip() else []
        context = {"terms": terms, "q": text, "field": request.GET.get("field", "term")}
        return render(request, "casework/_term_options.html", context)


# --- coding queue 编码队列 ---


class CodingQueueView(ScopedMixin, View):
    """编码队列: uncoded reported terms of the jurisdiction grouped by normalised text, most frequent first."""

    model = AdrReport

    def get(self, request):
        if not access.has_perm(request.user, ReactionTerm, access.VIEW):
            raise PermissionDenied("无权查看术语集")
        search = request.GET.get("q", "")
        rows = coding.queue(_reports(request), search)
        if request.GET.get("export") == "xlsx":
            return export_table(QueueTable([r.__dict__ for r in rows]), "编码队列", "xlsx")
        page = Paginator(rows, per_page(request)).get_page(request.GET.get("page"))
        context = {
            "page": page,
            "total": len(rows),
            "pending": sum(r.count for r in rows),
            "q": search,
            "query": _query(request),
            "per_page_choices": PER_PAGE_CHOICES,
            "per_page": per_page(request),
            "can_code": access.has_perm(request.user, ReactionTerm, access.CHANGE),
            "dictionary": coding.coding_dictionary(),
        }
        return render(request, "casework/coding_queue.html", context)


class CodingResolveView(ScopedMixin, View):
    """编码: a synonym is added and every uncoded reaction with that text is coded at once."""

    model = ReactionTerm
    action = access.CHANGE

    http_method_names = ["post"]

    def post(self, request):
        if not access.has_perm(request.user, AdrReport, access.CHANGE):
            raise PermissionDenied("无权修改不良反应报告")
        form = forms.ResolveForm(request.POST)
        if not form.is_valid():
            errors = "；".join(e for errs in form.errors.values() for e in errs)
            return render(request, "casework/_message.html", {"message": f"未编码：{errors}"}, status=400)
        term = form.cleaned_data["term"]
        coded = coding.resolve(form.cleaned_data["text"], term, actor=request.user)
        messages.success(request, f"“{form.cleaned_data['text']}”已编码为 {term}，共 {coded} 条")
        return redirect(request.POST.get("next") or reverse("casework:coding-queue"))


# --- deadlines 报告时限 ---


class DeadlineListView(ScopedMixin, View):
    """报告时限: late reports, sentinel target misses, and death-case follow-ups near due or overdue."""

    model = AdrReport

    def get(self, request):
        config = active_config()
        data = request.GET.copy()
        data.setdefault("kind", "late")
        base = coding.counted_reports(_reports(request)).select_related("reporting_enterprise")
        filterset = DeadlineFilterSet(data, queryset=base, request=request)
        queryset = filterset.qs if filterset.is_valid() else base.none()
        kind = filterset.form.cleaned_data.get("kind") if filterset.is_valid() else "late"
        today = timezone.localdate()
        if kind == "followup_near":
            queryset = deadlines.followups_near_due(queryset, config, today)
        elif kind == "followup_overdue":
            queryset = deadlines.followups_overdue(queryset, config, today)
        queryset = deadlines.annotate_timeliness(queryset.annotate(tl_unit=deadlines.unit_expression()), config)
        if kind == "late":
            queryset = queryset.filter(tl_late=True)
        elif kind == "sentinel_late":
            queryset = queryset.filter(tl_sentinel_late=True)
        table = DeadlineTable(
            queryset.order_by("-reported_on", "pk"), request=request, followup_days=config.value("followup_days")
        )
        if request.GET.get("export") == "xlsx":
            return export_table(table, "报告时限", "xlsx")
        paginate(table, request)
        context = {
            "filterset": filterset,
            "table": table,
            "query": _query(request),
            "per_page_choices": PER_PAGE_CHOICES,
            "config": config,
            "kind": kind,
        }
        return render(request, "casework/deadline_list.html", context)


class TimelinessView(ScopedMixin, View):
    """及时性统计: per reporting unit, cases, on-time rate, median delay, sentinel 7-day rate; export."""

    model = AdrReport

    def get(self, request):
        config = active_config()
        base = coding.counted_reports(_reports(request))
        filterset = ReportFilterSet(request.GET or None, queryset=base, request=request)
        queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else base
        rows = deadlines.unit_statistics(queryset, config)
        table = UnitTable(rows, request=request)
        if request.GET.get("export") == "xlsx":
            return export_table(table, "报告及时性", "xlsx")
        paginate(table, request)
        cases = sum(r["cases"] for r in rows)
        on_time = sum(r["on_time"] for r in rows)
        context = {
            "filterset": filterset,
            "table": table,
            "query": _query(request),
            "per_page_choices": PER_PAGE_CHOICES,
            "config": config,
            "cases": cases,
            "rate": f"{on_time / cases * 100:.1f}%" if cases else "—",
            "missing": sum(r["missing"] for r in rows),
            "units": len(rows),
        }
        return render(request, "casework/timeliness.html", context)


class ConfigView(ParameterVersionView):
    """病例处理参数: the active version (read), and a new version (administrators)."""

    model = CaseworkConfig
    form_class = forms.ConfigForm
    template_name = "casework/config.html"
    denied = "仅系统管理员可修改病例处理参数"
    published = "已启用病例处理参数 v{version}"
    success_url = "casework:config"

    def active(self):
        return active_config()

    def values(self, config) -> dict:
        return {name: config.value(name) for name, *_ in forms.PARAMETERS}

    def publish(self, values, *, actor, note):
        return publish_config(values, actor=actor, note=note)


# --- duplicates 重复报告 ---


class DuplicateListView(ObjectListView):
    """重复报告: pairs of the jurisdiction (pending first by default), with the 运行识别 button."""

    model = DuplicateCandidate
    filterset_class = DuplicateFilterSet
    table_class = DuplicateTable
    template_name = "casework/duplicate_list.html"
    select_related = ("report_a", "report_b", "reviewer")

    def get(self, request, *args, **kwargs):
        request.can_run_dedupe = self.can(access.ADD)  # read by the template's 运行识别 button
        return super().get(request, *args, **kwargs)

    def get_add_url(self):
        return None  # pairs come from the detection run


class DedupeRunView(ScopedMixin, View):
    """运行识别: score the reports of the user's jurisdiction and queue new pairs."""

    model = DuplicateCandidate
    action = access.ADD

    http_method_names = ["post"]

    def post(self, request):
        result = dedupe.find_duplicates(_reports(request), actor=request.user)
        messages.success(
            request,
            f"比对报告 {result.compared_reports} 份，达到阈值 {result.candidates} 对，新增 {result.created} 对待审核",
        )
        return redirect("casework:duplicate-list")


REPORT_FIELDS = (
    "report_number",
    "source",
    "reporter_unit",
    "received_on",
    "reported_on",
    "onset_on",
    ("patient_name_masked", "患者"),
    "patient_initials",
    "patient_sex",
    "patient_age",
    "patient_age_group",
    "seriousness",
    "outcome",
    "causality",
    "duplicate_of",
    "is_nullified",
)


PART_LABELS = {
    "drug": "药品",
    "reaction": "反应",
    "sex": "性别",
    "age": "年龄",
    "onset": "发生日期",
    "batch": "批号",
    "initials": "姓名缩写",
}


class DuplicateDetailView(ScopedMixin, View):
    """A pair side by side 对比审核, with the evidence; 合并 (choose which to keep) / 非重复 / 撤销合并."""

    model = DuplicateCandidate

    def base_queryset(self):
        return DuplicateCandidate.objects.select_related("report_a", "report_b", "kept", "reviewer")

    def get(self, request, pk):
        return self.render_page(self.get_object())

    def render_page(self, candidate, status=200, error=""):
        sides = []
        for report in (candidate.report_a, candidate.report_b):
            in_scope = _reports(self.request).filter(pk=report.pk).exists()
            sides.append(
                {
                    "report": report,
                    "rows": field_rows(report, REPORT_FIELDS),
                    "drugs": report.drugs.all(),
                    "reactions": report.reactions.select_related("coded_term"),
                    "in_scope": in_scope,
                }
            )
        parts = candidate.evidence.get("parts", {})
        context = {
            "candidate": candidate,
            "parts": [(PART_LABELS.get(name, name), value) for name, value in parts.items()],
            "sides": sides,
            "can_review": self.can(access.CHANGE),
            "error": error,
        }
        return render(self.request, "casework/duplicate_detail.html", context, status=status)

    def post(self, request, pk):
        candidate = self.get_object(access.VIEW)
        if not self.can(access.CHANGE):
            raise PermissionDenied("无权审核疑似重复报告")
        candidate = self.get_object(access.CHANGE)
        step = request.POST.get("step")
        try:
            if step == "merge":
                keep = {"a": candidate.report_a, "b": candidate.report_b}.get(request.POST.get("keep"))
                if keep is None:
                    raise ValidationError("请选择保留哪一份报告")
                dedupe.merge(candidate, actor=request.user, keep=keep)
                messages.success(request, f"已合并：保留 {keep.report_number}")
            elif step == "dismiss":
                dedupe.dismiss(candidate, actor=request.user)
                messages.success(request, "已标记为非重复")
            elif step == "unmerge":
                dedupe.unmerge(candidate, actor=request.user)
                messages.success(request, "已撤销合并，重新计入统计")
            else:
                raise ValidationError("未知操作")
        except ValidationError as exc:
            return self.render_page(candidate, status=400, error="；".join(exc.messages))
        return redirect(candidate.get_absolute_url())
