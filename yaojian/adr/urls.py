from yaojian.core.views_generic import record_urls

from . import views
from .models import AdrReport

app_name = "adr"

urlpatterns = record_urls(
    AdrReport,
    list_view=views.AdrReportListView,
    detail_view=views.AdrReportDetailView,
    edit_view=views.AdrReportEditView,
    delete_view=views.AdrReportDeleteView,
)
