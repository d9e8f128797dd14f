from yaojian.core.views_generic import child_urls, record_urls

from . import views
from .models import Defect, Inspection

app_name = "inspections"

urlpatterns = [
    *record_urls(
        Inspection,
        list_view=views.InspectionListView,
        detail_view=views.InspectionDetailView,
        edit_view=views.InspectionEditView,
        delete_view=views.InspectionDeleteView,
    ),
    *child_urls(Defect, views.DefectEditView, views.DefectDeleteView, parent="inspection", plural="defects"),
]
