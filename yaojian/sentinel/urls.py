from django.urls import path

from yaojian.core.views_generic import record_urls

from . import views
from .models import SentinelSite

app_name = "sentinel"

urlpatterns = [
    *record_urls(
        SentinelSite,
        list_view=views.SentinelSiteListView,
        detail_view=views.SentinelSiteDetailView,
        edit_view=views.SentinelSiteEditView,
        delete_view=views.SentinelSiteDeleteView,
        prefix="sites/",
    ),
    path("performance/", views.PerformanceView.as_view(), name="performance"),
    path("targets/", views.TargetsView.as_view(), name="targets"),
    path("clusters/", views.ClusterListView.as_view(), name="cluster-list"),
    path("clusters/<int:pk>/", views.ClusterDetailView.as_view(), name="cluster-detail"),
    path("responses/", views.BoardView.as_view(), name="board"),
    path("responses/<int:pk>/", views.ResponseDetailView.as_view(), name="response-detail"),
    path("config/", views.ConfigView.as_view(), name="config"),
]
