"""Forms 表单 of the sentinel pages: site registration, task actions, closing assessment, parameters."""

from django import forms

from yaojian.core.choices import Role
from yaojian.core.models import User
from yaojian.core.views_generic import ScopedModelForm

from .models import SITE_ENTERPRISE_TYPES, Conclusion, SentinelConfig, SentinelSite, WatchedGroup

SITE_TYPES = sorted({t for types in SITE_ENTERPRISE_TYPES.values() for t in types})


class SentinelSiteForm(ScopedModelForm):
    watched_groups = forms.MultipleChoiceField(
        label="重点监测品种", choices=WatchedGroup.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = SentinelSite
        fields = ("enterprise", "kind", "watched_groups", "active_from", "active_to", "note")
        widgets = {"active_from": forms.DateInput(), "active_to": forms.DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = self.fields["enterprise"].queryset.filter(type__in=SITE_TYPES)


class CompleteTaskForm(forms.Form):
    task = forms.IntegerField(widget=forms.HiddenInput)
    result = forms.CharField(label="办理结果", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class AssignTaskForm(forms.Form):
    task = forms.IntegerField(widget=forms.HiddenInput)
    assignee = forms.ModelChoiceField(label="承办人", queryset=User.objects.none())

    def __init__(self, *args, division_code: str, **kwargs):
        super().__init__(*args, **kwargs)
        # Accounts of the area and the levels above it that may handle a task.
        chain = {division_code, division_code[:4] + "00", division_code[:2] + "0000"}
        roles = (Role.REGULATOR, Role.ADR_ANALYST, Role.INSPECTOR)
        self.fields["assignee"].queryset = User.objects.filter(
            is_active=True, role__in=roles, division_id__in=chain
        ).order_by("division_id", "username")


class CloseForm(forms.Form):
    conclusion = forms.ChoiceField(label="评估结论", choices=Conclusion.choices)
    assessment = forms.CharField(label="结案评估", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class ConfigForm(forms.ModelForm):
    class Meta:
        model = SentinelConfig
        fields = (
            "annual_report_target",
            "handled_target_pct",
            "timeliness_days",
            "silence_days",
            "rule_min_cases",
            "rule_window_days",
            "batch_min_cases",
            "batch_window_days",
            "scan_baseline_days",
            "scan_max_days",
            "scan_max_zones",
            "scan_replications",
            "scan_alpha",
            "scan_min_cases",
            "response_hours",
        )
