"""Edit forms 编辑表单: the case and its drugs and reactions (inline formsets), usable on a phone."""

from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory

from yaojian.core.views_generic import ScopedModelForm

from .models import AdrDrug, AdrReaction, AdrReport

# Summary columns are derived from the children by ``services.save_case``; merges belong to case work.
DERIVED = ("product", "batch", "reaction", "seriousness", "duplicate_of", "is_nullified")


class AdrReportForm(ScopedModelForm):
    class Meta:
        model = AdrReport
        exclude = DERIVED
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class AdrDrugForm(ScopedModelForm):
    """A drug 药品; the registry product and batch are found from the approval and batch numbers."""

    class Meta:
        model = AdrDrug
        exclude = ("report", "position", "product", "batch")


class AdrReactionForm(ScopedModelForm):
    term_code = forms.CharField(label="术语编码", max_length=20, required=False, help_text="MedDRA 或本平台术语编码")

    class Meta:
        model = AdrReaction
        exclude = ("report", "position", "coded_term")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.coded_term_id:
            self.initial.setdefault("term_code", self.instance.coded_term.code)


class CaseRowsFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "删除此行"


DrugFormSet = inlineformset_factory(
    AdrReport, AdrDrug, form=AdrDrugForm, formset=CaseRowsFormSet, extra=1, can_delete=True
)
ReactionFormSet = inlineformset_factory(
    AdrReport,
    AdrReaction,
    form=AdrReactionForm,
    formset=CaseRowsFormSet,
    extra=1,
    can_delete=True,
    min_num=1,
    validate_min=True,
)


class E2BUploadForm(forms.Form):
    file = forms.FileField(label="E2B(R3) XML 文件", help_text="ICH E2B(R3) 批次消息 MCCI_IN200100UV01")
    division = forms.RegexField(
        label="无关联企业时归属辖区",
        regex=r"^\d{6}$",
        required=False,
        help_text="6位行政区划代码，默认本人所在辖区",
    )
