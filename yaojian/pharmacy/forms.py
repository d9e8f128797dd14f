"""Forms 表单 of the smart-pharmacy warning: one purchase record, an upload, a clear-text look-up, a response."""

from django import forms

from yaojian.core import access
from yaojian.core.choices import Role
from yaojian.core.models import User

from .models import DETECTORS, AlertStatus, DrugClass, WarningConfig


class PurchaseForm(forms.Form):
    """页面录入: one line of a receipt; the watched class may be left to the keyword match."""

    receipt_number = forms.CharField(label="小票号", max_length=40)
    line = forms.IntegerField(label="行号", min_value=1, initial=1)
    sold_at = forms.DateTimeField(
        label="销售时间", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    drug_name = forms.CharField(label="药品名称", max_length=200)
    drug_class = forms.ModelChoiceField(
        label="监测类别",
        queryset=DrugClass.objects.filter(is_active=True),
        required=False,
        empty_label="按药品名称识别",
    )
    quantity = forms.IntegerField(label="数量", min_value=1, initial=1)
    buyer_name = forms.CharField(label="购药人姓名", max_length=40)
    buyer_id_number = forms.CharField(
        label="身份证号", max_length=18, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )

    def as_row(self) -> dict:
        data = dict(self.cleaned_data)
        data["drug_class"] = data["drug_class"].code if data["drug_class"] else ""
        return data


class UploadForm(forms.Form):
    file = forms.FileField(label="文件（CSV：UTF-8 或 GBK；或 Excel .xlsx）")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError("仅支持 .csv 或 .xlsx 文件")
        return upload


class RevealForm(forms.Form):
    reason = forms.CharField(
        label="查看原因",
        min_length=4,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如：配合疾控流调核实购药人身份（将记入审计日志）",
    )


class ResponseForm(forms.Form):
    """处置: status, the regulator it is assigned to (in the alert's area), a note."""

    status = forms.ChoiceField(label="处置状态", choices=AlertStatus.choices)
    assignee = forms.ModelChoiceField(
        label="处置人", queryset=User.objects.none(), required=False, empty_label="未指派"
    )
    note = forms.CharField(label="处置记录", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, alert, user, **kwargs):
        super().__init__(*args, **kwargs)
        prefix = access.jurisdiction_prefix(user)
        people = User.objects.filter(is_active=True, role__in=(Role.REGULATOR, Role.INSPECTOR))
        # Regulators of the alert's area or above it; never outside the responder's own jurisdiction.
        people = people.filter(division__code__in=_area_and_parents(alert.division_code))
        if prefix is not None:
            people = people.filter(division__code__startswith=prefix) | people.filter(pk=user.pk)
        self.fields["assignee"].queryset = people.order_by("username").distinct()
        self.initial.setdefault("status", alert.status)
        self.initial.setdefault("assignee", alert.assignee_id)


def _area_and_parents(code: str) -> list[str]:
    return [code, code[:4] + "00", code[:2] + "0000"]


class ConfigForm(forms.ModelForm):
    """预警参数: a new version is published from the current one's values."""

    detectors = forms.MultipleChoiceField(
        label="启用的检测方法", choices=list(DETECTORS.items()), widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WarningConfig
        fields = (
            "metric",
            "detectors",
            "history_days",
            "ears_baseline",
            "ears_alpha",
            "c3_threshold",
            "min_sigma",
            "cusum_baseline",
            "cusum_k",
            "cusum_h",
            "farrington_freq",
            "farrington_b",
            "farrington_w",
            "farrington_alpha",
            "min_pharmacies",
            "min_districts",
            "retention_days",
        )

    def clean(self):
        data = super().clean()
        if data.get("farrington_w") is not None and data.get("farrington_freq") is not None:
            if 2 * data["farrington_w"] + 1 >= data["farrington_freq"]:
                self.add_error("farrington_w", "窗口 2w+1 应小于周期")
        if data.get("ears_baseline") is not None and data["ears_baseline"] < 3:
            self.add_error("ears_baseline", "基线至少3天")
        return data
