import json

from django import forms

from .models import TeamRole


class TeamForm(forms.Form):
    """The "4+1" assistance team 帮扶组: one name per role."""

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        current = dict(case.members.values_list("role", "name")) if case else {}
        for role, label in TeamRole.choices:
            self.fields[role] = forms.CharField(label=label, max_length=64, initial=current.get(role))


class StepForm(forms.Form):
    title = forms.CharField(label="整改进展", max_length=200)
    done_on = forms.DateField(label="完成日期", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(forms.Form):
    result_summary = forms.CharField(label="整改结果", widget=forms.Textarea(attrs={"rows": 4}))
    closed_on = forms.DateField(label="结案日期", widget=forms.DateInput(attrs={"type": "date"}))
    publish = forms.BooleanField(label="公开整改结果供同行评议", required=False, initial=True)


class CommentForm(forms.Form):
    content = forms.CharField(label="评议意见", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ConfigForm(forms.Form):
    """Risk-model parameters 风险模型参数 as JSON; a new version is stored on save."""

    parameters = forms.CharField(label="参数（JSON）", widget=forms.Textarea(attrs={"rows": 30, "class": "mono"}))
    note = forms.CharField(label="修订说明", max_length=200)

    def clean_parameters(self):
        try:
            value = json.loads(self.cleaned_data["parameters"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"JSON 格式错误：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("参数应为一个 JSON 对象")
        from .defaults import DEFAULT_PARAMETERS, REVISIONS

        known = set(DEFAULT_PARAMETERS).union(*(revision.add for revision in REVISIONS))
        unknown = sorted(set(value) - known)
        if unknown:
            raise forms.ValidationError("未知参数：" + "、".join(unknown))
        return value
