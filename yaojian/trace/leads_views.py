"""Lead queue pages 追溯线索: list with filters and export, one lead with its evidence and handling, and the
enterprise dossier's fragment. Reads go through ``access.scoped``; writes through :mod:`yaojian.trace.leads`."""

import django_filters
import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views import View

from yaojian.core import access
from yaojian.core.choices import Role
from yaojian.core.filtersets import RegulatedFilterSet
from yaojian.core.models import User
from yaojian.core.views_generic import ObjectListView, ParameterVersionView, RecordTable, ScopedMixin, field_rows
from yaojian.registry.models import Enterprise

from . import leads, thresholds
from .models import CLOSED_STATUSES, LeadKind, LeadStatus, ThresholdConfig, TraceLead


class LeadFilterSet(RegulatedFilterSet):
    search_fields = ("code", "party", "enterprise__name", "enterprise__credit_code")

    kind = django_filters.ChoiceFilter(label="线索类型", choices=LeadKind.choices)
    status = django_filters.ChoiceFilter(label="处理状态", choices=LeadStatus.choices)
    enterprise = django_filters.ModelChoiceFilter(label="企业", queryset=Enterprise.objects.all())

    class Meta:
        model = TraceLead
        fields = ["q", "division", "kind", "status", "enterprise"]


class LeadTable(RecordTable):
    found_at = tables.DateTimeColumn(format="Y-m-d H:i", linkify=lambda record: record.get_absolute_url())
    enterprise = tables.Column(linkify=lambda record: record.enterprise.get_absolute_url())
    assignee = tables.Column(verbose_name="承办人")

    class Meta(RecordTable.Meta):
        model = TraceLead
        fields = ("found_at", "kind", "code", "enterprise", "party", "status", "assignee")


class LeadListView(ObjectListView):
    """追溯线索队列: the jurisdiction's leads, newest first; raised by the scans, never added by hand."""

    model = TraceLead
    filterset_class = LeadFilterSet
    table_class = LeadTable
    template_name = "trace/leads/list.html"
    select_related = ("enterprise", "assignee")

    def get_add_url(self):
        return None


def assignee_choices(lead: TraceLead):
    """Regulators and inspectors whose jurisdiction contains the lead (so they can open it)."""
    code = lead.division_code or "-"
    ancestors = {code, code[:4] + "00", code[:2] + "0000"}
    return User.objects.filter(is_active=True, role__in=(Role.REGULATOR, Role.INSPECTOR), division_id__in=ancestors)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label="承办人", queryset=User.objects.none())
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, lead, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignee_choices(lead)
        self.fields["assignee"].label_from_instance = lambda u: u.display_name or u.get_username()


class StepForm(forms.Form):
    status = forms.ChoiceField(
        label="处理状态",
        choices=[(s, label) for s, label in LeadStatus.choices if s not in CLOSED_STATUSES and s != LeadStatus.NEW],
        initial=LeadStatus.INVESTIGATING,
    )
    note = forms.CharField(label="核查情况", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class CloseForm(forms.Form):
    status = forms.ChoiceField(label="结论", choices=[(s, s.label) for s in CLOSED_STATUSES])
    outcome = forms.CharField(label="处理结果", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class LeadDetailView(ScopedMixin, View):
    """One lead: facts, the evidence events, handling steps; assign, record a step, close (查实/排除)."""

    model = TraceLead
    template_name = "trace/leads/detail.html"
    forms = {"assign": AssignForm, "step": StepForm, "close": CloseForm}

    def base_queryset(self):
        return TraceLead.objects.select_related("enterprise", "assignee")

    def render_lead(self, lead, bound=None, status=200):
        context = {
            "lead": lead,
            "rows": field_rows(
                lead, ("kind", "code", "enterprise", "party", "other_party", "product_code", "found_at", "status")
            )
            + field_rows(lead, ("assignee", "outcome", "created_at", "last_scanned_at")),
            "evidence": lead.evidence,
            "steps": lead.steps.select_related("recorded_by"),
            "can_change": self.can(access.CHANGE) and not lead.is_closed,
        }
        for name, form_class in self.forms.items():
            kwargs = {"lead": lead} if name == "assign" else {}
            context[f"{name}_form"] = (
                bound if bound is not None and bound.prefix == name else form_class(prefix=name, **kwargs)
            )
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, pk):
        return self.render_lead(self.get_object())

    def post(self, request, pk):
        lead = self.get_object()
        which = request.POST.get("form")
        if which not in self.forms:
            return self.render_lead(lead, status=400)
        if not self.can(access.CHANGE) or lead.is_closed:
            raise PermissionDenied("无此操作权限")
        kwargs = {"lead": lead} if which == "assign" else {}
        form = self.forms[which](request.POST, prefix=which, **kwargs)
        if not form.is_valid():
            return self.render_lead(lead, bound=form, status=400)
        data = form.cleaned_data
        try:
            if which == "assign":
                leads.record_step(
                    lead, actor=request.user, status=LeadStatus.ASSIGNED, note=data["note"], assignee=data["assignee"]
                )
            elif which == "step":
                leads.record_step(lead, actor=request.user, status=data["status"], note=data["note"])
            else:
                leads.record_step(lead, actor=request.user, status=data["status"], outcome=data["outcome"])
        except ValueError as exc:
            form.add_error(None, str(exc))
            return self.render_lead(lead, bound=form, status=400)
        messages.success(request, "已保存")
        return redirect(lead.get_absolute_url())


class EnterpriseLeadsView(ScopedMixin, View):
    """The dossier's 追溯线索 fragment (htmx): counts by kind and status, the latest leads, a link to the queue."""

    model = TraceLead
    latest = 10

    def get(self, request, pk):
        enterprise = access.get_scoped_or_404(Enterprise.objects.all(), request.user, access.VIEW, pk=pk)
        qs = access.scoped(TraceLead.objects.filter(enterprise=enterprise), request.user)
        by_kind = dict(qs.values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
        open_count = qs.exclude(status__in=CLOSED_STATUSES).count()
        context = {
            "enterprise": enterprise,
            "kinds": [(label, by_kind[kind]) for kind, label in LeadKind.choices if kind in by_kind],
            "total": sum(by_kind.values()),
            "open_count": open_count,
            "latest": qs.select_related("assignee")[: self.latest],
        }
        return render(request, "trace/leads/_enterprise.html", context)


class ThresholdView(ParameterVersionView):
    """追溯线索阈值: the active version and the history (lead readers); a new version (who may raise leads)."""

    model = ThresholdConfig
    form_class = thresholds.ThresholdForm
    template_name = "trace/leads/thresholds.html"
    change_action = access.ADD
    published = "已启用追溯线索阈值 v{version}，下次扫描起生效"
    success_url = "trace:thresholds"

    def active(self):
        return thresholds.active_config()

    def values(self, config) -> dict:
        return thresholds.thresholds_of(config).values()

    def publish(self, values, *, actor, note):
        return thresholds.publish_thresholds(values, actor=actor, note=note)
