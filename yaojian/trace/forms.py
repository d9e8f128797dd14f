"""Query and upload forms of the trace pages 追溯查询表单; codes are validated by :mod:`yaojian.trace.codes`."""

import re

from django import forms
from django.conf import settings

from yaojian.core.identifiers import check_uscc, normalize

from .codes import CodeError, code_uri
from .store import PARTY_URN

LOT = re.compile(r"^[A-Za-z0-9_\-./]{1,40}$")


class CodeForm(forms.Form):
    code = forms.CharField(label="追溯码", max_length=120, help_text="20 位药品追溯码，或 GS1 码（(01)…(21)…）")

    def clean_code(self):
        try:
            return code_uri(self.cleaned_data["code"])
        except CodeError as exc:
            raise forms.ValidationError(f"追溯码无效：{exc.reason}") from None


class BatchForm(forms.Form):
    lot = forms.CharField(label="批号", max_length=40)
    product = forms.RegexField(
        label="药品标识码", regex=r"^8\d{6}$", required=False, help_text="7 位；批号在多个品种间重复时填写"
    )

    def clean_lot(self):
        lot = self.cleaned_data["lot"].strip()
        if not LOT.match(lot):
            raise forms.ValidationError("批号只能含字母、数字和 - _ . /")
        return lot


class HolderForm(forms.Form):
    holder = forms.CharField(label="统一社会信用代码", max_length=18)

    def clean_holder(self):
        code = normalize(self.cleaned_data["holder"])
        problem = check_uscc(code)
        if problem:
            raise forms.ValidationError(f"统一社会信用代码{problem}")
        return PARTY_URN + code


class UploadForm(forms.Form):
    file = forms.FileField(label="事件文件", help_text="EPCIS 2.0 JSON/JSON-LD、XML，追溯数据集 CSV 或 Parquet")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.YAOJIAN_IMPORT_MAX_BYTES:
            raise forms.ValidationError(f"文件过大：上限 {settings.YAOJIAN_IMPORT_MAX_BYTES // 1024 // 1024} MB")
        return upload
