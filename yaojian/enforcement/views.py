"""Pages 页面 for Penalty — list, detail, add/edit, delete via the generic views."""

from django.db.models import Q
from django.shortcuts import render
from django.views import View

from yaojian.core.views_generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView, paginate

from .filtersets import PenaltyFilterSet
from .forms import PenaltyForm
from .models import Penalty
from .tables import PenaltyTable, PublicPenaltyTable


class PenaltyListView(ObjectListView):
    model = Penalty
    filterset_class = PenaltyFilterSet
    table_class = PenaltyTable
    select_related = ("enterprise", "product")


class PenaltyDetailView(ObjectDetailView):
    model = Penalty
    select_related = ("enterprise", "product")
    fields = (
        "decision_number",
        "enterprise",
        "product",
        "decided_on",
        "violation",
        "legal_basis",
        "kind",
        "fine_amount",
        "is_published",
    )


class PenaltyEditView(ObjectEditView):
    model = Penalty
    form_class = PenaltyForm


class PenaltyDeleteView(ObjectDeleteView):
    model = Penalty


class PublicPenaltyListView(View):
    """Public notice 行政处罚信息公示: published decisions only, for anyone, no login."""

    def get(self, request):
        rows = Penalty.objects.filter(is_published=True).select_related("enterprise")
        keyword = request.GET.get("q", "").strip()
        if keyword:
            rows = rows.filter(
                Q(decision_number__icontains=keyword)
                | Q(enterprise__name__icontains=keyword)
                | Q(enterprise__credit_code__icontains=keyword)
            )
        table = paginate(PublicPenaltyTable(rows, request=request), request)
        return render(request, "public/penalties.html", {"table": table, "q": keyword})
