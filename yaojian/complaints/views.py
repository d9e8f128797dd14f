"""Pages 页面 for Complaint — list, detail, add/edit, delete via the generic views."""

from yaojian.core.views_generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView

from .filtersets import ComplaintFilterSet
from .forms import ComplaintForm
from .models import Complaint
from .tables import ComplaintTable


class ComplaintListView(ObjectListView):
    model = Complaint
    filterset_class = ComplaintFilterSet
    table_class = ComplaintTable
    select_related = ("enterprise", "product")


class ComplaintDetailView(ObjectDetailView):
    model = Complaint
    select_related = ("enterprise", "product")
    fields = (
        "number",
        "enterprise",
        "product",
        "channel",
        "received_on",
        "due_on",
        "subject",
        "content",
        ("complainant_name_masked", "投诉人"),
        ("complainant_phone_masked", "联系电话"),
        "status",
        "substantiated",
        "closed_on",
    )


class ComplaintEditView(ObjectEditView):
    model = Complaint
    form_class = ComplaintForm


class ComplaintDeleteView(ObjectDeleteView):
    model = Complaint
