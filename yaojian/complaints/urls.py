from yaojian.core.views_generic import record_urls

from . import views
from .models import Complaint

app_name = "complaints"

urlpatterns = record_urls(
    Complaint,
    list_view=views.ComplaintListView,
    detail_view=views.ComplaintDetailView,
    edit_view=views.ComplaintEditView,
    delete_view=views.ComplaintDeleteView,
)
