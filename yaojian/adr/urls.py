from django.urls import path

from yaojian.core.views_generic import record_urls

from . import views
from .models import AdrReport

app_name = "adr"

urlpatterns = [
    path("e2b/", views.E2BUploadView.as_view(), name="adrreport-e2b-upload"),
    path("<int:pk>/e2b/", views.E2BExportView.as_view(), name="adrreport-e2b-export"),
    *record_urls(
        AdrReport,
        list_view=views.AdrReportListView,
        detail_view=views.AdrReportDetailView,
        edit_view=views.AdrReportEditView,
        delete_view=views.AdrReportDeleteView,
    ),
]
