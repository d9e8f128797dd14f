from yaojian.core.views_generic import record_urls

from . import views
from .models import CreditRating

app_name = "credit"

urlpatterns = record_urls(
    CreditRating,
    list_view=views.CreditRatingListView,
    detail_view=views.CreditRatingDetailView,
    edit_view=views.CreditRatingEditView,
    delete_view=views.CreditRatingDeleteView,
)
