"""Inspection pages 监督检查: the inspection page lists its defects 缺陷, added and edited from there."""

from django.db.models import Count

from yaojian.core import access
from yaojian.core.views_generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView, paginate

from .filtersets import InspectionFilterSet
from .forms import DefectForm, InspectionForm
from .models import Defect, Inspection
from .tables import DefectTable, InspectionTable


class InspectionListView(ObjectListView):
    model = Inspection
    filterset_class = InspectionFilterSet
    table_class = InspectionTable
    select_related = ("enterprise",)

    def get_queryset(self):
        return super().get_queryset().annotate(defect_count=Count("defects"))


class InspectionDetailView(ObjectDetailView):
    model = Inspection
    template_name = "inspections/inspection_detail.html"
    select_related = ("enterprise",)
    fields = ("number", "enterprise", "kind", "inspected_on", "inspectors", "conclusion", "summary")

    def get_context(self, inspection):
        user = self.request.user
        defects = access.scoped(inspection.defects.all(), user)
        can_change = access.has_perm(user, Defect, access.CHANGE)
        table = DefectTable(defects, request=self.request, exclude=() if can_change else ("actions",))
        return {
            "defects": paginate(table, self.request),
            "can_add_defect": access.has_perm(user, Defect, access.ADD),
        }


class InspectionEditView(ObjectEditView):
    model = Inspection
    form_class = InspectionForm


class InspectionDeleteView(ObjectDeleteView):
    model = Inspection


class DefectEditView(ObjectEditView):
    model = Defect
    form_class = DefectForm
    parent_field = "inspection"


class DefectDeleteView(ObjectDeleteView):
    model = Defect
    returns_to_parent = True
