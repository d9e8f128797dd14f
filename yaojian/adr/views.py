"""Pages 页面 for AdrReport — list, detail, add/edit, delete via the generic views."""

from yaojian.core.views_generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView

from .filtersets import AdrReportFilterSet
from .forms import AdrReportForm
from .models import AdrReport
from .tables import AdrReportTable


class AdrReportListView(ObjectListView):
    model = AdrReport
    filterset_class = AdrReportFilterSet
    table_class = AdrReportTable
    select_related = ("enterprise", "product", "batch")


class AdrReportDetailView(ObjectDetailView):
    model = AdrReport
    select_related = ("enterprise", "product", "batch")
    fields = (
        "report_number",
        "enterprise",
        "product",
        "batch",
        "reporter_unit",
        "reported_on",
        "onset_on",
        "reaction",
        "seriousness",
        "is_new",
        "patient_sex",
        "patient_age",
        "outcome",
        "description",
    )


class AdrReportEditView(ObjectEditView):
    model = AdrReport
    form_class = AdrReportForm


class AdrReportDeleteView(ObjectDeleteView):
    model = AdrReport
