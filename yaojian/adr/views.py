"""Pages 页面 for adverse-reaction cases: list, detail with drugs and reactions, the case form with inline
drug/reaction rows, E2B(R3) upload (per-ICSR result and ACK) and export of one case."""

import base64
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from yaojian.core import access
from yaojian.core.views_generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ScopedMixin,
    model_meta,
)

from . import e2b, services
from .filtersets import AdrReportFilterSet
from .forms import AdrReportForm, DrugFormSet, E2BUploadForm, ReactionFormSet
from .models import AdrReaction, AdrReport
from .tables import AdrReportTable

# Seriousness criteria 严重性标准 by field, for the reaction table.
CRITERIA = {name: str(AdrReaction._meta.get_field(name).verbose_name) for name in AdrReaction.SERIOUSNESS_FIELDS}


class AdrReportListView(ObjectListView):
    model = AdrReport
    filterset_class = AdrReportFilterSet
    table_class = AdrReportTable
    select_related = ("enterprise", "product", "batch")
    template_name = "adr/report_list.html"


class AdrReportDetailView(ObjectDetailView):
    model = AdrReport
    template_name = "adr/report_detail.html"
    select_related = ("enterprise", "product", "batch", "reporting_enterprise", "duplicate_of")
    fields = (
        "report_number",
        "worldwide_case_id",
        "report_type",
        "source",
        "enterprise",
        "reporting_enterprise",
        "reporter_unit",
        "reporter_qualification",
        "product",
        "batch",
        "sold_on",
        "received_on",
        "reported_on",
        "onset_on",
        "reaction",
        "seriousness",
        "is_new",
        "causality",
        ("patient_name_masked", "患者姓名"),
        ("patient_contact_masked", "患者联系方式"),
        "patient_initials",
        "patient_sex",
        "patient_age",
        "patient_age_group",
        "patient_weight_kg",
        "outcome",
        "description",
        "duplicate_of",
        "is_nullified",
    )

    def get_context(self, obj) -> dict:
        reactions = list(obj.reactions.select_related("coded_term"))
        for reaction in reactions:
            reaction.criteria = [CRITERIA[name] for name in reaction.SERIOUSNESS_FIELDS if getattr(reaction, name)]
        return {
            "drugs": obj.drugs.select_related("product", "batch"),
            "reactions": reactions,
            "export_url": self.url("e2b-export", obj.pk),
        }


def _rows(formset) -> list[dict]:
    """Cleaned rows of a formset in order, without deleted or untouched blank rows."""
    return [
        {k: v for k, v in form.cleaned_data.items() if k not in ("id", "report", "DELETE")}
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class AdrReportEditView(ObjectEditView):
    """Case form 报告表单: case fields with inline drugs and reactions, saved by ``services.save_case``."""

    model = AdrReport
    form_class = AdrReportForm
    template_name = "adr/report_form.html"

    def formsets(self, instance):
        data = self.request.POST if self.request.method == "POST" else None
        kwargs = {"instance": instance, "form_kwargs": {"user": self.request.user}}
        return DrugFormSet(data, prefix="drugs", **kwargs), ReactionFormSet(data, prefix="reactions", **kwargs)

    def render_case(self, form, formsets, instance, status=200):
        context = {
            "form": form,
            "drug_formset": formsets[0],
            "reaction_formset": formsets[1],
            "object": instance if instance.pk else None,
            "meta": model_meta(self.model),
            "cancel_url": instance.get_absolute_url() if instance.pk else self.url("list"),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, *args, **kwargs):
        instance = self.get_instance()
        return self.render_case(self.get_form(instance), self.formsets(instance), instance)

    def post(self, request, *args, **kwargs):
        instance = self.get_instance()
        form, formsets = self.get_form(instance), self.formsets(instance)
        if all([form.is_valid(), formsets[0].is_valid(), formsets[1].is_valid()]):
            fields = dict(form.cleaned_data)
            if not instance.pk and not fields.get("enterprise") and not fields.get("reporting_enterprise"):
                fields["division_code"] = request.user.division_id or ""  # filed under the user's division
            try:
                report = services.save_case(
                    actor=request.user,
                    fields=fields,
                    drugs=_rows(formsets[0]),
                    reactions=_rows(formsets[1]),
                    report=instance if instance.pk else None,
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, f"已保存：{report}")
                return redirect(report.get_absolute_url())
        return self.render_case(form, formsets, instance, status=400)


class AdrReportDeleteView(ObjectDeleteView):
    model = AdrReport


class E2BExportView(ScopedMixin, View):
    """One case as an E2B(R3) batch file 导出E2B."""

    model = AdrReport

    def get(self, request, *args, **kwargs):
        report = self.get_object()
        response = HttpResponse(e2b.export_batch([report]), content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(report.report_number)}.xml"
        return response


class E2BUploadView(ScopedMixin, View):
    """E2B(R3) upload 导入: the batch is imported all or nothing; the page lists each ICSR and offers the ACK."""

    model = AdrReport
    action = access.ADD
    template_name = "adr/e2b_upload.html"

    def form(self):
        initial = {"division": self.request.user.division_id or ""}
        return E2BUploadForm(self.request.POST or None, self.request.FILES or None, initial=initial)

    def get(self, request, *args, **kwargs):
        return render(request, self.template_name, {"form": self.form(), "meta": model_meta(self.model)})

    def post(self, request, *args, **kwargs):
        form = self.form()
        context = {"form": form, "meta": model_meta(self.model)}
        if not form.is_valid():
            return render(request, self.template_name, context, status=400)
        upload = form.cleaned_data["file"]
        if upload.size > e2b.MAX_BYTES:
            form.add_error("file", f"文件过大（上限 {e2b.MAX_BYTES // 1024 // 1024} MB）")
            return render(request, self.template_name, context, status=400)
        division = form.cleaned_data["division"] or request.user.division_id or ""
        result = e2b.import_batch(upload.read(), actor=request.user, division_code=division)
        context.update(
            result=result,
            filename=upload.name,
            ack_href="data:application/xml;base64," + base64.b64encode(result.ack_xml).decode(),
        )
        return render(request, self.template_name, context, status=200 if result.code != "AR" else 400)
