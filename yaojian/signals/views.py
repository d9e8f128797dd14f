"""Signal workbench 信号工作台: runs, the signal list, the pair page with its case series and trends,
the review workflow, and the product page fragment."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views import View

from yaojian.adr.models import AdrReport
from yaojian.core import access
from yaojian.core.views_generic import ObjectListView, ScopedMixin, export_table, field_rows, paginate
from yaojian.registry.models import Product

from . import forms, services
from .dataset import STRATA
from .filtersets import PairResultFilterSet, SignalFilterSet, SignalRunFilterSet
from .listings import CaseSeriesTable, PairResultTable, SignalRunTable, SignalTable
from .models import PairResult, Signal, SignalRun, scope_name


class SignalRunListView(ObjectListView):
    """检测批次: the runs of the jurisdiction, newest first; 新增 opens 新建检测."""

    model = SignalRun
    filterset_class = SignalRunFilterSet
    table_class = SignalRunTable
    select_related = ("created_by",)
    add_url_name = "signals:signalrun-add"


class SignalRunAddView(ScopedMixin, View):
    """新建检测: period, scope, product category, strata and criteria; runs at once and shows the run."""

    model = SignalRun
    action = access.ADD
    template_name = "signals/run_form.html"

    def get(self, request):
        return render(request, self.template_name, {"form": forms.SignalRunForm(user=request.user)})

    def post(self, request):
        form = forms.SignalRunForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = services.run_signals(
                    request.user,
                    date_from=data["date_from"],
                    date_to=data["date_to"],
                    division_prefix=data["division_prefix"],
                    category=data["category"] or None,
                    strata=data["strata"],
                    criteria=form.criteria,
                )
            except services.SignalRunError as exc:
                form.add_error(None, f"检测未完成：{exc}")
            else:
                messages.success(request, f"检测完成：{run.n_pairs} 个组合，新信号 {run.n_new_signals} 个")
                return redirect(run.get_absolute_url())
        return render(request, self.template_name, {"form": form}, status=400)


class SignalRunDetailView(ScopedMixin, View):
    """One run: its parameters, fitted prior and counts, and every pair's measures (filter, page, export)."""

    model = SignalRun
    template_name = "signals/run_detail.html"

    def get(self, request, pk):
        run = self.get_object()
        filterset = PairResultFilterSet(
            request.GET or None, queryset=run.results.defer("report_ids", "series"), request=request
        )
        queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
        table = PairResultTable(queryset, request=request)
        if request.GET.get("export") == "xlsx":
            return export_table(table, f"信号检测第{run.pk}次结果", "xlsx")
        paginate(table, request)
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "run": run,
            "scope": scope_name(run.division_code),
            "rows": field_rows(
                run,
                (
                    "started_at",
                    "created_by",
                    "date_from",
                    "date_to",
                    "category",
                    "status",
                    "error",
                    "n_reports",
                    "n_rows",
                    "n_pairs",
                    "n_flagged",
                    "n_new_signals",
                    "duration_s",
                ),
            ),
            "strata": [STRATA[s] for s in run.strata],
            "criteria": run.criteria,
            "filterset": filterset,
            "table": table,
            "query": query.urlencode(),
        }
        return render(request, self.template_name, context)


class SignalListView(ObjectListView):
    """信号: filters by status, product, event, run and measure thresholds; paging; Excel export."""

    model = Signal
    filterset_class = SignalFilterSet
    table_class = SignalTable
    template_name = "signals/signal_list.html"
    select_related = ("latest_result", "assignee", "first_run", "latest_run")

    def base_queryset(self):
        return Signal.objects.defer("latest_result__report_ids", "latest_result__series")

    def get_add_url(self):
        return None  # signals come from runs


def pair_context(request, result: PairResult | None) -> dict:
    """Measures, case series (masked) and quarterly trend of one pair result."""
    if result is None:
        return {"result": None}
    reports = access.scoped(
        AdrReport.objects.filter(pk__in=result.report_ids).select_related("product").order_by("-reported_on", "pk"),
        request.user,
    )
    cases = paginate(CaseSeriesTable(reports, request=request), request)
    # (label, value, interval, decimals)
    measures = [
        ("N（报告数）", result.n, None, 0),
        ("E（期望数）", result.expected, None, 3),
        ("PRR（95% CI）", result.prr, (result.prr_lo, result.prr_hi), 3),
        ("χ²（Yates）", result.prr_chi2, None, 3),
        ("ROR（95% CI）", result.ror, (result.ror_lo, result.ror_hi), 3),
        ("IC（IC025–IC975）", result.ic, (result.ic025, result.ic975), 3),
        ("EBGM（EB05–EB95）", result.ebgm, (result.eb05, result.eb95), 3),
    ]
    return {
        "result": result,
        "measures": measures,
        "cases": cases,
        "series": json.dumps(result.series) if result.series else "",
    }


class PairResultDetailView(ScopedMixin, View):
    """组合页: one pair of one run, with the signal it raised if any."""

    model = PairResult
    template_name = "signals/pair_detail.html"

    def get(self, request, pk):
        result = access.get_scoped_or_404(
            PairResult.objects.select_related("run", "product", "term"), request.user, access.VIEW, pk=pk
        )
        signal = (
            access.scoped(Signal.objects.all(), request.user)
            .filter(division_code=result.division_code, drug_key=result.drug_key, event_key=result.event_key)
            .first()
        )
        context = {
            "title": str(result),
            "pair": result,
            "run": result.run,
            "signal": signal,
            **pair_context(request, result),
        }
        return render(request, self.template_name, context)


class SignalDetailView(ScopedMixin, View):
    """信号页: the pair's latest measures, case series and trends, and its review workflow."""

    model = Signal
    template_name = "signals/pair_detail.html"

    def base_queryset(self):
        return Signal.objects.select_related("latest_result__run", "product", "term", "assignee", "first_run")

    def render_signal(self, signal, form=None, status=200):
        can_change = self.can(access.CHANGE)
        context = {
            "title": str(signal),
            "signal": signal,
            "signal_page": True,
            "pair": signal,
            "run": signal.latest_run,
            "scope": scope_name(signal.division_code),
            "events": signal.steps.select_related("actor", "assignee"),
            "form": (form or forms.SignalActionForm(signal=signal)) if can_change else None,
            **pair_context(self.request, signal.latest_result),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, pk):
        return self.render_signal(self.get_object())

    def post(self, request, pk):
        signal = self.get_object()
        if not self.can(access.CHANGE):
            raise PermissionDenied("无此操作权限")
        form = forms.SignalActionForm(request.POST, signal=signal)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.transition(
                    signal,
                    actor=request.user,
                    to_status=data["to_status"],
                    assignee=data["assignee"],
                    note=data["note"],
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "已记录处置")
                return redirect(signal.get_absolute_url())
        return self.render_signal(signal, form, status=400)


class ProductSignalsView(ScopedMixin, View):
    """htmx fragment for the product page 一品一链: the product's signals in the user's jurisdiction."""

    model = Signal

    def get(self, request, pk):
        product = access.get_scoped_or_404(Product.objects.all(), request.user, access.VIEW, pk=pk)
        signals = (
            access.scoped(Signal.objects.filter(product=product), request.user)
            .select_related("latest_result")
            .order_by("status", "-latest_result__eb05")
        )
        return render(request, "signals/product_signals.html", {"product": product, "signals": signals})
