from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.job_list, name="job-list"),
    path("<int:pk>/", views.job_detail, name="job-detail"),
    path("<int:pk>/rejects/", views.job_rejects, name="job-rejects"),
    path("templates/<slug:kind>.<str:fmt>", views.template_download, name="template"),
]
