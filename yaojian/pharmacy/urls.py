from django.urls import path

from . import views

app_name = "pharmacy"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("series/", views.SeriesView.as_view(), name="series"),
    path("config/", views.ConfigView.as_view(), name="config"),
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/", views.AlertDetailView.as_view(), name="alert-detail"),
    path("records/", views.RecordListView.as_view(), name="record-list"),
    path("records/add/", views.RecordAddView.as_view(), name="record-add"),
    path("records/upload/", views.RecordUploadView.as_view(), name="record-upload"),
    path("records/<int:pk>/", views.RecordDetailView.as_view(), name="record-detail"),
    path("records/<int:pk>/reveal/", views.RecordRevealView.as_view(), name="record-reveal"),
]
