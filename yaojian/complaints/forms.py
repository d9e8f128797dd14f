"""Complaint form 投诉举报表单. The complainant's identity is write-only: the form never shows it
in clear (脱敏); a blank box keeps the stored value."""

from django import forms

from yaojian.core.views_generic import ScopedModelForm

from .models import Complaint

PRIVATE = ("complainant_name", "complainant_phone")


class ComplaintForm(ScopedModelForm):
    complainant_name = forms.CharField(label="投诉人", required=False)
    complainant_phone = forms.CharField(label="联系电话", required=False)

    class Meta:
        model = Complaint
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in PRIVATE:
            self.initial[name] = ""
            if self.instance.pk:
                masked = getattr(self.instance, f"{name}_masked")
                self.fields[name].help_text = f"当前：{masked or '未填写'}；留空则不修改"

    def _keep(self, name):
        return self.cleaned_data.get(name) or getattr(self.instance, name)

    def clean_complainant_name(self):
        return self._keep("complainant_name")

    def clean_complainant_phone(self):
        return self._keep("complainant_phone")
