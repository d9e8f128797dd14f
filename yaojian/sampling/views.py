"""Pages 页面 for SamplingTest — list, detail, add/edit, delete via the generic views."""

from yaojian.core.views_generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView

from .filtersets import SamplingTestFilterSet
from .forms import SamplingTestForm
from .models import SamplingTest
from .tables import SamplingTestTable


class SamplingTestListView(ObjectListView):
    model = SamplingTest
    filterset_class = SamplingTestFilterSet
    table_class = SamplingTestTable
    select_related = ("enterprise", "product", "batch")


class SamplingTestDetailView(ObjectDetailView):
    model = SamplingTest
    select_related = ("enterprise", "product", "batch")
    fields = ("number", "enterprise", "product", "batch", "kind", "sampled_on", "result", "failed_items", "reported_on")


class SamplingTestEditView(ObjectEditView):
    model = SamplingTest
    form_class = SamplingTestForm


class SamplingTestDeleteView(ObjectDeleteView):
    model = SamplingTest
