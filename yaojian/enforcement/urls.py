from yaojian.core.views_generic import record_urls

from . import views
from .models import Penalty

app_name = "enforcement"

urlpatterns = record_urls(
    Penalty,
    list_view=views.PenaltyListView,
    detail_view=views.PenaltyDetailView,
    edit_view=views.PenaltyEditView,
    delete_view=views.PenaltyDeleteView,
)
