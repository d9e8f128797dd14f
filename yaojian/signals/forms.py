"""Forms 表单 of the signal workbench: a new run 新建检测 and a workflow step 处置."""

import datetime

from django import forms
from django.utils import timezone

from yaojian.core import access
from yaojian.core.choices import Role
from yaojian.core.models import Division, User
from yaojian.registry.choices import ProductCategory

from .dataset import STRATA
from .models import TRANSITIONS, SignalStatus
from .services import DEFAULT_CRITERIA, METHODS


def scope_choices(user) -> list[tuple[str, str]]:
    """Prefixes 检测范围 the user may run for: their jurisdiction and the divisions inside it (nationwide,
    provinces and cities for the administrator)."""
    prefix = access.jurisdiction_prefix(user)
    divisions = Division.objects.select_related("parent__parent").order_by("code")
    if prefix is None:
        choices, divisions = [("", "全国")], divisions.filter(level__in=("province", "city"))
    else:
        choices, divisions = [], divisions.filter(code__startswith=prefix)
    seen = {value for value, _label in choices}
    for division in divisions:
        if division.prefix not in seen:
            seen.add(division.prefix)
            choices.append((division.prefix, division.full_name))
    return choices


class SignalRunForm(forms.Form):
    date_from = forms.DateField(label="报告日期自", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="报告日期至", widget=forms.DateInput(attrs={"type": "date"}))
    division_prefix = forms.ChoiceField(label="检测范围", choices=())
    category = forms.ChoiceField(label="产品类别", choices=[("", "全部"), *ProductCategory.choices], required=False)
    strata = forms.MultipleChoiceField(
        label="分层", choices=list(STRATA.items()), required=False, widget=forms.CheckboxSelectMultiple
    )
    methods = forms.MultipleChoiceField(
        label="判定方法", choices=[(m, m) for m in METHODS], widget=forms.CheckboxSelectMultiple
    )
    min_methods = forms.IntegerField(label="至少满足方法数", min_value=1, max_value=len(METHODS))
    min_n = forms.IntegerField(label="最少报告数", min_value=1)
    prr = forms.FloatField(label="PRR ≥")
    chi2 = forms.FloatField(label="χ² ≥")
    n = forms.IntegerField(label="PRR 法 N ≥", min_value=1)
    ror025 = forms.FloatField(label="ROR025 >")
    ic025 = forms.FloatField(label="IC025 >")
    eb05 = forms.FloatField(label="EB05 ≥")

    CRITERIA = ("methods", "min_methods", "min_n", "prr", "chi2", "n", "ror025", "ic025", "eb05")

    def __init__(self, *args, user, **kwargs):
        today = timezone.localdate()
        initial = {
            **DEFAULT_CRITERIA,
            "date_from": datetime.date(today.year - 1, 1, 1),
            "date_to": today,
            **kwargs.pop("initial", {}),
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["division_prefix"].choices = scope_choices(user)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "截止日期应不早于起始日期")
        if data.get("methods") and data.get("min_methods") and data["min_methods"] > len(data["methods"]):
            self.add_error("min_methods", "不能多于所选方法数")
        return data

    def scope_fields(self):
        return [self[name] for name in self.fields if name not in self.CRITERIA]

    def criteria_fields(self):
        return [self[name] for name in self.CRITERIA]

    @property
    def criteria(self) -> dict:
        return {key: self.cleaned_data[key] for key in self.CRITERIA}


class SignalActionForm(forms.Form):
    """One workflow step: a status move (only the allowed ones are offered), an assignee, a note."""

    to_status = forms.ChoiceField(label="转为", required=False)
    assignee = forms.ModelChoiceField(label="指派给", queryset=User.objects.none(), required=False)
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, signal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [("", "（不变）")] + [
            (s, SignalStatus(s).label) for s in TRANSITIONS[signal.status]
        ]
        self.fields["assignee"].queryset = reviewers(signal)
        self.fields["assignee"].empty_label = "（不变）"

    def clean(self):
        data = super().clean()
        if not (data.get("to_status") or data.get("assignee") or (data.get("note") or "").strip()):
            raise forms.ValidationError("请选择新状态、指派负责人或填写说明")
        return data


def reviewers(signal):
    """Active ADR analysts and regulators whose jurisdiction covers the signal's scope."""
    users = User.objects.filter(is_active=True, role__in=(Role.ADR_ANALYST, Role.REGULATOR)).select_related("division")
    keep = [u.pk for u in users if signal.division_code.startswith(access.jurisdiction_prefix(u) or "")]
    return User.objects.filter(pk__in=keep).order_by("username")
