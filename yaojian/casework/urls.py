from django.urls import path

from . import views

app_name = "casework"

urlpatterns = [
    path("terms/", views.TermListView.as_view(), name="term-list"),
    path("terms/add/", views.TermEditView.as_view(), name="term-add"),
    path("terms/<int:pk>/edit/", views.TermEditView.as_view(), name="term-edit"),
    path("terms/search/", views.TermSearchView.as_view(), name="term-search"),
    path("coding/", views.CodingQueueView.as_view(), name="coding-queue"),
    path("coding/resolve/", views.CodingResolveView.as_view(), name="coding-resolve"),
    path("deadlines/", views.DeadlineListView.as_view(), name="deadline-list"),
    path("timeliness/", views.TimelinessView.as_view(), name="timeliness"),
    path("config/", views.ConfigView.as_view(), name="config"),
    path("duplicates/", views.DuplicateListView.as_view(), name="duplicate-list"),
    path("duplicates/run/", views.DedupeRunView.as_view(), name="dedupe-run"),
    path("duplicates/<int:pk>/", views.DuplicateDetailView.as_view(), name="duplicate-detail"),
]
