"""Risk pages 风险画像: graded supervision, warnings and assistance cases, department lists,
the command dashboard 驾驶舱, the enterprise risk panel and the model parameters."""

import datetime
import json

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from yaojian.core import access
from yaojian.core.views_generic import ObjectListView, ScopedMixin, field_rows
from yaojian.registry.models import Enterprise

from . import actions, filtersets, forms, pushes, services
from .engine import FACTOR_LABELS
from .models import (
    AssistanceCase,
    CaseStatus,
    EnterpriseTag,
    LevelChange,
    ProductRiskAssessment,
    Push,
    RiskAssessment,
    RiskModelConfig,
    RiskWarning,
    ScheduledRun,
    SupervisionLevel,
    TeamRole,
    WarningStatus,
)
from .tables import AssistanceCaseTable, ProductRiskTable, PushTable, RiskAssessmentTable


class NoAddMixin:
    def get_add_url(self):
        return None  # written by the risk jobs, not by hand


class LevelListView(NoAddMixin, ObjectListView):
    """分级监管: the jurisdiction's enterprises by level, the next inspection due, overdue first."""

    model = RiskAssessment
    filterset_class = filtersets.RiskAssessmentFilterSet
    table_class = RiskAssessmentTable
    template_name = "risk/level_list.html"
    select_related = ("enterprise",)

    def base_queryset(self):
        return RiskAssessment.objects.filter(is_current=True)


class ProductRiskListView(NoAddMixin, ObjectListView):
    """产品风险: the jurisdiction's products by current risk, highest first."""

    model = ProductRiskAssessment
    filterset_class = filtersets.ProductRiskFilterSet
    table_class = ProductRiskTable
    template_name = "risk/product_risk_list.html"
    select_related = ("product", "product__holder")

    def base_queryset(self):
        return ProductRiskAssessment.objects.filter(is_current=True)


class CaseListView(NoAddMixin, ObjectListView):
    """黄灯预警与技术帮扶: cases with their deadlines."""

    model = AssistanceCase
    filterset_class = filtersets.AssistanceCaseFilterSet
    table_class = AssistanceCaseTable
    template_name = "risk/case_list.html"
    select_related = ("enterprise",)


class PushListView(NoAddMixin, ObjectListView):
    """部门推送清单: a department sees its own list; regulators see what their jurisdiction pushed."""

    model = Push
    filterset_class = filtersets.PushFilterSet
    table_class = PushTable
    template_name = "risk/push_list.html"
    select_related = ("enterprise", "department")


class PushAcknowledgeView(ScopedMixin, View):
    """签收: a partner department acknowledges a pushed entry."""

    model = Push

    def post(self, request, pk):
        push = access.get_scoped_or_404(Push.objects.all(), request.user, access.VIEW, pk=pk)
        if request.user.role != "partner":
            raise PermissionDenied("仅协同部门可签收")
        pushes.acknowledge(push, actor=request.user)
        messages.success(request, f"已签收：{push.enterprise.name}")
        return redirect("risk:push-list")


class CaseDetailView(ScopedMixin, View):
    """One assistance case: evidence, the 4+1 team, progress steps, deadline, closing and peer review."""

    model = AssistanceCase
    template_name = "risk/case_detail.html"
    forms = {"team": forms.TeamForm, "step": forms.StepForm, "close": forms.CloseForm, "comment": forms.CommentForm}

    def base_queryset(self):
        return AssistanceCase.objects.select_related("enterprise", "warning")

    def render_case(self, case, bound=None, status=200):
        can_change = self.can(access.CHANGE) and case.status == CaseStatus.OPEN
        today = timezone.localdate()
        context = {
            "case": case,
            "rows": field_rows(
                case,
                (
                    "enterprise",
                    "opened_on",
                    "standard_days",
                    "deadline_days",
                    "due_on",
                    "status",
                    "escalation_level",
                    "escalated_on",
                    "closed_on",
                ),
            ),
            "remaining": (case.due_on - today).days,
            "overdue_days": (today - case.due_on).days,
            "evidence": case.warning.evidence,
            "team": _team(case),
            "steps": case.steps.select_related("recorded_by"),
            "comments": case.comments.select_related("author"),
            "can_change": can_change,
            "can_comment": case.is_published and request_can_comment(self.request.user),
        }
        for name, form_class in self.forms.items():
            kwargs = {"case": case} if name == "team" else {}
            context[f"{name}_form"] = (
                bound if bound is not None and bound.prefix == name else form_class(prefix=name, **kwargs)
            )
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, pk):
        return self.render_case(self.get_object())

    def post(self, request, pk):
        case = self.get_object()
        which = request.POST.get("form")
        if which not in self.forms:
            return self.render_case(case, status=400)
        if which == "comment":
            if not (case.is_published and request_can_comment(request.user)):
                raise PermissionDenied("无权评议")
        elif not (self.can(access.CHANGE) and case.status == CaseStatus.OPEN):
            raise PermissionDenied("无此操作权限")
        kwargs = {"case": case} if which == "team" else {}
        form = self.forms[which](request.POST, prefix=which, **kwargs)
        if not form.is_valid():
            return self.render_case(case, bound=form, status=400)
        data, user = form.cleaned_data, request.user
        try:
            if which == "team":
                actions.assign_team(case, {role: (data[role], None) for role in TeamRole.values}, actor=user)
            elif which == "step":
                actions.add_step(case, data["title"], data["done_on"], actor=user, note=data["note"])
            elif which == "close":
                actions.close_case(
                    case,
                    actor=user,
                    result_summary=data["result_summary"],
                    closed_on=data["closed_on"],
                    publish=data["publish"],
                )
            else:
                actions.add_peer_comment(case, data["content"], actor=user)
        except ValueError as exc:
            form.add_error(None, str(exc))
            return self.render_case(case, bound=form, status=400)
        messages.success(request, "已保存")
        return redirect(case.get_absolute_url())


def _team(case) -> list[tuple[str, str]]:
    names = dict(case.members.values_list("role", "name"))
    return [(label, names.get(role, "")) for role, label in TeamRole.choices]


def request_can_comment(user) -> bool:
    """Peer review 同行评议 is open to regulators and inspectors who can see the case."""
    return user.role in ("admin", "regulator", "inspector")


def panel_context(request, enterprise) -> dict:
    """Context of the 风险画像 panel: current factors, score history, level changes, tags, warnings."""
    history = list(
        access.scoped(RiskAssessment.objects.filter(enterprise=enterprise), request.user).order_by("as_of", "id")
    )
    return {
        "enterprise": enterprise,
        **_charts(history),
        "changes": access.scoped(LevelChange.objects.filter(enterprise=enterprise), request.user)[:20],
        "tags": EnterpriseTag.objects.filter(enterprise=enterprise, is_active=True),
        "warnings": access.scoped(RiskWarning.objects.filter(enterprise=enterprise), request.user).select_related(
            "case"
        ),
    }


def _charts(history: list) -> dict:
    """The current assessment of a score history, its factors and the history as chart data."""
    current = history[-1] if history else None
    factors = current.factors if current else []
    return {
        "current": current,
        "factor_chart": json.dumps(
            [{"name": f["label"], "value": f["contribution"], "detail": f["detail"]} for f in factors][::-1],
            ensure_ascii=False,
        ),
        "history_chart": json.dumps([[a.as_of.isoformat(), round(a.score, 3), a.level] for a in history]),
    }


def product_panel_context(request, product) -> dict:
    """Context of the 产品风险 panel on the product page 一品一链 (empty for roles that may not read it)."""
    if not access.has_perm(request.user, ProductRiskAssessment, access.VIEW):
        return {}
    history = list(
        access.scoped(ProductRiskAssessment.objects.filter(product=product), request.user).order_by("as_of", "id")
    )
    return {"product_risk": _charts(history)}


class EnterpriseRiskPanelView(ScopedMixin, View):
    """风险画像 panel of one enterprise on its own (the dossier shows the same as a tab)."""

    model = RiskAssessment

    def get(self, request, pk):
        enterprise = access.get_scoped_or_404(Enterprise.objects.all(), request.user, access.VIEW, pk=pk)
        return render(request, "risk/enterprise_panel.html", panel_context(request, enterprise))


DIMENSIONS = [
    ("inspections.inspection", "监督检查"),
    ("sampling.samplingtest", "抽检"),
    ("adr.adrreport", "不良反应"),
    ("complaints.complaint", "投诉举报"),
    ("enforcement.penalty", "行政处罚"),
    ("credit.creditrating", "信用评价"),
]


class DashboardView(ScopedMixin, View):
    """Command dashboard 驾驶舱 for the user's jurisdiction, each figure linking to the list behind it."""

    model = RiskAssessment

    def get(self, request):
        user = request.user
        today = timezone.localdate()
        current = access.scoped(RiskAssessment.objects.filter(is_current=True), user)
        by_level = dict(current.values("level").annotate(n=Count("pk")).values_list("level", "n").order_by())
        level_url = reverse("risk:riskassessment-list")
        levels = [
            {"name": label, "value": by_level.get(value, 0), "url": f"{level_url}?level={value}"}
            for value, label in SupervisionLevel.choices
        ]
        year_ago = today.replace(day=1) - datetime.timedelta(days=335)
        months = [m.strftime("%Y-%m") for m in _month_starts(year_ago, today)]
        trend = _monthly_counts(
            access.scoped(LevelChange.objects.filter(changed_on__gte=year_ago), user),
            "changed_on",
            months,
            split=("to_level", [4, 3]),
        )
        arrivals = {}
        for label, name in DIMENSIONS:
            model = apps.get_model(label)
            if access.has_perm(user, model, access.VIEW):
                arrivals[name] = _monthly_counts(
                    access.scoped(model.objects.filter(created_at__date__gte=year_ago), user), "created_at", months
                )
        cases = access.scoped(AssistanceCase.objects.filter(status=CaseStatus.OPEN), user).select_related("enterprise")
        context = {
            "kpis": {
                "enterprises": access.scoped(Enterprise.objects.all(), user).count(),
                "high_risk": by_level.get(4, 0) + by_level.get(3, 0),
                "overdue_inspections": current.filter(next_inspection_due__lt=today).count(),
                "active_warnings": access.scoped(RiskWarning.objects.filter(status=WarningStatus.ACTIVE), user).count(),
                "overdue_cases": cases.filter(due_on__lt=today).count(),
                "priority": access.scoped(EnterpriseTag.objects.filter(is_active=True, tag="优先推荐"), user).count(),
            },
            "levels_json": json.dumps(levels, ensure_ascii=False),
            "trend_json": json.dumps({"months": months, "series": trend}, ensure_ascii=False),
            "arrivals_json": json.dumps({"months": months, "series": arrivals}, ensure_ascii=False),
            "top": current.select_related("enterprise").order_by("-score")[:10],
            "top_products": access.scoped(ProductRiskAssessment.objects.filter(is_current=True), user)
            .select_related("product", "product__holder")
            .order_by("-score", "product_id")[:10],
            "cases": cases.order_by("due_on")[:10],
            "priority": access.scoped(EnterpriseTag.objects.filter(is_active=True, tag="优先推荐"), user)
            .select_related("enterprise")
            .order_by("-since")[:10],
            "today": today,
            "links": {
                "levels": level_url,
                "overdue": f"{level_url}?overdue=true",
                "cases": reverse("risk:assistancecase-list"),
                "overdue_cases": reverse("risk:assistancecase-list") + "?overdue=true",
                "pushes": reverse("risk:push-list"),
                "products": reverse("risk:productriskassessment-list"),
            },
        }
        return render(request, "risk/dashboard.html", context)


def _month_starts(start: datetime.date, end: datetime.date):
    month = start.replace(day=1)
    while month <= end:
        yield month
        month = (month + datetime.timedelta(days=32)).replace(day=1)


def _monthly_counts(queryset, date_field: str, months: list[str], split=None):
    """Counts per calendar month (one grouped query); with ``split`` one series per value."""
    group = [split[0]] if split else []
    rows = queryset.annotate(_m=TruncMonth(date_field)).values("_m", *group).annotate(_n=Count("pk")).order_by()
    if split:
        series = {str(SupervisionLevel(v).label): [0] * len(months) for v in split[1]}
        for row in rows:
            if row[split[0]] in split[1]:
                series[str(SupervisionLevel(row[split[0]]).label)][months.index(row["_m"].strftime("%Y-%m"))] += row[
                    "_n"
                ]
        return series
    counts = [0] * len(months)
    for row in rows:
        key = row["_m"].strftime("%Y-%m")
        if key in months:
            counts[months.index(key)] += row["_n"]
    return counts


class ConfigView(ScopedMixin, View):
    """风险模型参数: the active version (read), and a new version (administrators)."""

    model = RiskModelConfig

    def get(self, request):
        return self.render_page(self.initial_form())

    def post(self, request):
        if not self.can(access.CHANGE):
            raise PermissionDenied("仅系统管理员可修改风险模型参数")
        form = forms.ConfigForm(request.POST)
        if not form.is_valid():
            return self.render_page(form, status=400)
        config = services.publish_config(
            form.cleaned_data["parameters"], actor=request.user, note=form.cleaned_data["note"]
        )
        messages.success(request, f"已启用风险模型参数 v{config.version}；下次重算时生效")
        return redirect("risk:config")

    def initial_form(self):
        config = services.active_config()
        return forms.ConfigForm(initial={"parameters": json.dumps(config.parameters, ensure_ascii=False, indent=2)})

    def render_page(self, form, status=200):
        context = {
            "config": services.active_config(),
            "versions": RiskModelConfig.objects.all()[:20],
            "form": form,
            "can_change": self.can(access.CHANGE),
            "factor_labels": FACTOR_LABELS,
            "runs": ScheduledRun.objects.all()[:5],
        }
        return render(self.request, "risk/config.html", context, status=status)
