"""Registry pages 主体与品种: enterprise list, the dossier 一企一档, the product chain 一品一链."""

import dataclasses
import datetime
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Count, Max, Q
from django.db.models.functions import Cast
from django.shortcuts import render
from django.urls import reverse

from yaojian.adr.models import AdrReport
from yaojian.adr.tables import AdrReportTable
from yaojian.complaints.models import Complaint
from yaojian.complaints.tables import ComplaintTable
from yaojian.core import access
from yaojian.core.models import AuditRecord
from yaojian.core.views import AuditRecordTable
from yaojian.core.views_generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    paginate,
    per_page,
)
from yaojian.credit.models import CreditRating
from yaojian.credit.tables import CreditRatingTable
from yaojian.enforcement.models import Penalty
from yaojian.enforcement.tables import PenaltyTable
from yaojian.inspections.models import Defect, Inspection
from yaojian.inspections.tables import InspectionTable
from yaojian.risk.models import RiskAssessment
from yaojian.risk.views import panel_context, product_panel_context
from yaojian.sampling.models import SamplingTest
from yaojian.sampling.tables import SamplingTestTable
from yaojian.signals.models import Signal
from yaojian.trace.models import TraceLead

from . import filtersets, forms
from .choices import LicenceStatus, ProductCategory
from .models import Batch, Enterprise, Licence, Product, ProductPackage, Registration
from .tables import BatchTable, EnterpriseTable, LicenceTable, ProductPackageTable, ProductTable, RegistrationTable


class EnterpriseListView(ObjectListView):
    model = Enterprise
    filterset_class = filtersets.EnterpriseFilterSet
    table_class = EnterpriseTable
    select_related = ("division",)

    def get_queryset(self):
        return super().get_queryset().annotate(latest_grade=filtersets.latest_credit_grade())


class EnterpriseEditView(ObjectEditView):
    model = Enterprise
    form_class = forms.EnterpriseForm


class EnterpriseDeleteView(ObjectDeleteView):
    model = Enterprise


# --- the dossier 一企一档 ---


@dataclasses.dataclass(frozen=True)
class Tab:
    """One dossier tab: the rows of one dimension that belong to the enterprise."""

    name: str
    label: str
    model: type
    rows: Callable  # enterprise -> queryset (unscoped; the view scopes it)
    table: type | None = None
    date_field: str = ""  # for the timeline


def _enterprise_ids_q(model, enterprise):
    condition = Q()
    for field in model.scope_enterprise_fields:
        condition |= Q(**{field: enterprise.pk})
    return condition


def _rows(model, *related, **annotations):
    def rows(enterprise):
        qs = model.objects.filter(_enterprise_ids_q(model, enterprise)).distinct()
        return qs.select_related(*related).annotate(**annotations) if related or annotations else qs

    return rows


TABS = [
    Tab("risk", "风险画像", RiskAssessment, lambda enterprise: None),
    Tab("licences", "许可证", Licence, _rows(Licence), LicenceTable, "issued_on"),
    Tab("products", "产品", Product, _rows(Product, "holder"), ProductTable, "created_at"),
    Tab(
        "inspections",
        "检查与缺陷",
        Inspection,
        _rows(Inspection, defect_count=Count("defects")),
        InspectionTable,
        "inspected_on",
    ),
    Tab("sampling", "抽检", SamplingTest, _rows(SamplingTest, "product", "batch"), SamplingTestTable, "sampled_on"),
    Tab("adr", "不良反应", AdrReport, _rows(AdrReport, "product"), AdrReportTable, "reported_on"),
    Tab("complaints", "投诉举报", Complaint, _rows(Complaint), ComplaintTable, "received_on"),
    Tab("penalties", "行政处罚", Penalty, _rows(Penalty), PenaltyTable, "decided_on"),
    Tab("credit", "信用评价", CreditRating, _rows(CreditRating, "enterprise"), CreditRatingTable, "rated_on"),
    Tab("history", "历史记录", AuditRecord, lambda enterprise: enterprise_history(enterprise)),
    Tab("timeline", "时间线", Enterprise, lambda enterprise: None),
]
TABS_BY_NAME = {tab.name: tab for tab in TABS}
# Every kind of record that hangs off an enterprise, for its history 历史记录.
HISTORY_MODELS = (Enterprise, Licence, Product, Registration, Batch, Inspection, Defect, SamplingTest) + (
    ProductPackage,
    AdrReport,
    Complaint,
    Penalty,
    CreditRating,
)


def enterprise_history(enterprise):
    """Audit records of the enterprise and of every record that belongs to it (one query)."""
    condition = Q()
    for model in HISTORY_MODELS:
        ids = model.objects.filter(_enterprise_ids_q(model, enterprise)).annotate(_id=Cast("pk", CharField()))
        condition |= Q(object_type=model._meta.label_lower, object_id__in=ids.values("_id"))
    return AuditRecord.objects.filter(condition)


def import_batches(enterprise) -> list[str]:
    """Import batches 导入批次 that brought in this enterprise's records."""
    batches = set()
    for model in HISTORY_MODELS:
        qs = model.objects.filter(_enterprise_ids_q(model, enterprise)).exclude(import_batch="")
        batches.update(qs.values_list("import_batch", flat=True).distinct())
    return sorted(batches)


def visible_tabs(user) -> list[Tab]:
    return [tab for tab in TABS if access.has_perm(user, tab.model, access.VIEW)]


def timeline(request, enterprise, tabs):
    """Merged timeline 时间线, newest first: each dimension gives at most the rows up to this page."""
    size = per_page(request)
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    entries, total = [], 0
    for tab in tabs:
        if not tab.date_field:
            continue
        qs = access.scoped(tab.rows(enterprise), request.user)
        total += qs.count()
        for obj in qs.order_by(f"-{tab.date_field}", "-pk")[: page * size]:
            when = getattr(obj, tab.date_field)
            if isinstance(when, datetime.datetime):
                when = when.date()
            entries.append({"date": when, "kind": tab.label, "title": str(obj), "url": obj.get_absolute_url()})
    entries.sort(key=lambda e: e["date"], reverse=True)
    pages = max(1, -(-total // size))
    return {
        "entries": entries[(page - 1) * size : page * size],
        "page": page,
        "pages": pages,
        "previous": page - 1 if page > 1 else None,
        "next": page + 1 if page < pages else None,
    }


def tab_context(request, enterprise, tab, tabs) -> dict:
    if tab.name == "risk":
        return {"risk": panel_context(request, enterprise)}
    if tab.name == "timeline":
        return {"timeline": timeline(request, enterprise, tabs)}
    rows = access.scoped(tab.rows(enterprise), request.user)
    if tab.name == "history":
        table = AuditRecordTable(rows, request=request)
        return {"table": paginate(table, request), "import_batches": import_batches(enterprise)}
    exclude = ("enterprise",) if "enterprise" in tab.table.base_columns else ()
    return {"table": paginate(tab.table(rows, request=request, exclude=exclude), request)}


def dossier_header(enterprise) -> dict:
    latest = CreditRating.objects.filter(enterprise=enterprise).order_by("-rated_on").first()
    validity = Licence.objects.filter(enterprise=enterprise, status=LicenceStatus.VALID).aggregate(
        until=Max("valid_until"), count=Count("pk")
    )
    return {"latest_rating": latest, "licence_validity": validity}


class EnterpriseDetailView(ObjectDetailView):
    """Enterprise dossier 一企一档: header facts, then tabs that load with htmx or as plain links."""

    model = Enterprise
    template_name = "registry/enterprise_detail.html"
    select_related = ("division__parent__parent",)

    def get(self, request, *args, **kwargs):
        enterprise = self.get_object()
        tabs = visible_tabs(request.user)
        name = kwargs.get("tab") or tabs[0].name
        tab = TABS_BY_NAME.get(name)
        if tab is None or tab not in tabs:
            raise PermissionDenied("无权查看此栏目")
        context = {
            "object": enterprise,
            "tabs": tabs,
            "tab": tab,
            "tab_url": reverse("registry:enterprise-tab", args=[enterprise.pk, tab.name]),
            **tab_context(request, enterprise, tab, tabs),
        }
        if request.htmx and not request.htmx.history_restore_request and "tab" in kwargs:
            return render(request, "registry/dossier_tab.html", context)
        context.update(
            dossier_header(enterprise),
            edit_url=reverse("registry:enterprise-edit", args=[enterprise.pk]) if self.can(access.CHANGE) else None,
            delete_url=reverse("registry:enterprise-delete", args=[enterprise.pk]) if self.can(access.DELETE) else None,
            can_view_leads=access.has_perm(request.user, TraceLead, access.VIEW),
        )
        return render(request, self.template_name, context)


# --- licences ---


class LicenceListView(ObjectListView):
    model = Licence
    filterset_class = filtersets.LicenceFilterSet
    table_class = LicenceTable
    select_related = ("enterprise",)


class LicenceDetailView(ObjectDetailView):
    model = Licence
    select_related = ("enterprise",)
    fields = ("number", "type", "enterprise", "scope", "issued_on", "valid_until", "status", "division_code")


class LicenceEditView(ObjectEditView):
    model = Licence
    form_class = forms.LicenceForm


class LicenceDeleteView(ObjectDeleteView):
    model = Licence


# --- products 一品一链 ---


class ProductListView(ObjectListView):
    model = Product
    filterset_class = filtersets.ProductFilterSet
    table_class = ProductTable
    select_related = ("holder",)


def _chain_table(request, table_class, rows, prefix, exclude=()):
    table = table_class(access.scoped(rows, request.user), request=request, prefix=prefix, exclude=exclude)
    return paginate(table, request)


class ProductDetailView(ObjectDetailView):
    """Product chain 一品一链: holder, manufacturer, registrations, batches and every linked record."""

    model = Product
    template_name = "registry/product_detail.html"
    select_related = ("holder", "manufacturer")
    fields = (
        "name",
        "category",
        "approval_number",
        "holder",
        "manufacturer",
        "dosage_form",
        "specification",
        "drug_type",
        "device_class",
        "is_prescription",
    )

    def get_context(self, product):
        request, user = self.request, self.request.user
        readonly = () if access.has_perm(user, Registration, access.CHANGE) else ("actions",)
        sites = [e for e in (product.holder_id, product.manufacturer_id) if e]
        sections = [
            (
                "抽检",
                SamplingTest,
                SamplingTest.objects.filter(product=product).select_related("enterprise", "batch"),
                SamplingTestTable,
                ("product",),
            ),
            (
                "不良反应",
                AdrReport,
                AdrReport.objects.filter(product=product).select_related("enterprise"),
                AdrReportTable,
                ("product",),
            ),
            (
                "投诉举报",
                Complaint,
                Complaint.objects.filter(product=product).select_related("enterprise"),
                ComplaintTable,
                (),
            ),
            (
                "行政处罚",
                Penalty,
                Penalty.objects.filter(product=product).select_related("enterprise"),
                PenaltyTable,
                (),
            ),
            (
                "持有人/生产企业检查",
                Inspection,
                Inspection.objects.filter(enterprise_id__in=sites)
                .select_related("enterprise")
                .annotate(defect_count=Count("defects")),
                InspectionTable,
                (),
            ),
        ]
        linked = [
            {"label": label, "table": _chain_table(request, table, rows, f"s{n}-", exclude)}
            for n, (label, model, rows, table, exclude) in enumerate(sections)
            if access.has_perm(user, model, access.VIEW)
        ]
        return {
            "registrations": _chain_table(request, RegistrationTable, product.registrations.all(), "reg-", readonly),
            "batches": _chain_table(request, BatchTable, product.batches.all(), "bat-", readonly),
            "packages": _chain_table(request, ProductPackageTable, product.packages.all(), "pkg-", readonly)
            if product.category == ProductCategory.DRUG
            else None,
            "linked": linked,
            "can_change": self.can(access.CHANGE),
            "risk_attributes": product.risk_attributes,
            "can_view_signals": access.has_perm(user, Signal, access.VIEW),
            **product_panel_context(request, product),
        }


class ProductEditView(ObjectEditView):
    model = Product
    form_class = forms.ProductForm


class ProductDeleteView(ObjectDeleteView):
    model = Product


class RegistrationEditView(ObjectEditView):
    model = Registration
    form_class = forms.RegistrationForm
    parent_field = "product"


class RegistrationDeleteView(ObjectDeleteView):
    model = Registration
    returns_to_parent = True


class BatchEditView(ObjectEditView):
    model = Batch
    form_class = forms.BatchForm
    parent_field = "product"


class BatchDeleteView(ObjectDeleteView):
    model = Batch
    returns_to_parent = True


class ProductPackageEditView(ObjectEditView):
    model = ProductPackage
    form_class = forms.ProductPackageForm
    parent_field = "product"


class ProductPackageDeleteView(ObjectDeleteView):
    model = ProductPackage
    returns_to_parent = True
