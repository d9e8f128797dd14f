"""Pages 页面 for CreditRating — list, detail, add/edit, delete via the generic views."""

from yaojian.core.views_generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView

from .filtersets import CreditRatingFilterSet
from .forms import CreditRatingForm
from .models import CreditRating
from .tables import CreditRatingTable


class CreditRatingListView(ObjectListView):
    model = CreditRating
    filterset_class = CreditRatingFilterSet
    table_class = CreditRatingTable
    select_related = ("enterprise",)


class CreditRatingDetailView(ObjectDetailView):
    model = CreditRating
    select_related = ("enterprise",)
    fields = ("enterprise", "grade", "rated_on", "basis", "valid_until")


class CreditRatingEditView(ObjectEditView):
    model = CreditRating
    form_class = CreditRatingForm


class CreditRatingDeleteView(ObjectDeleteView):
    model = CreditRating
