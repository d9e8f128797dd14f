from django.urls import path

from . import leads_views

app_name = "trace"

urlpatterns: list = [
    # 追溯线索 lead queue (anomaly scans), one lead, and the enterprise dossier's fragment.
    path("leads/", leads_views.LeadListView.as_view(), name="tracelead-list"),
    path("leads/<int:pk>/", leads_views.LeadDetailView.as_view(), name="tracelead-detail"),
    path("leads/enterprise/<int:pk>/", leads_views.EnterpriseLeadsView.as_view(), name="enterprise-leads"),
]
