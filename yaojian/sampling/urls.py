from yaojian.core.views_generic import record_urls

from . import views
from .models import SamplingTest

app_name = "sampling"

urlpatterns = record_urls(
    SamplingTest,
    list_view=views.SamplingTestListView,
    detail_view=views.SamplingTestDetailView,
    edit_view=views.SamplingTestEditView,
    delete_view=views.SamplingTestDeleteView,
)
