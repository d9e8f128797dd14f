from django.urls import path

from . import leads_views, views

app_name = "trace"

urlpatterns: list = [
    # 药品追溯 pages over the event store; the public code query needs no login.
    path("query/", views.public_query, name="public-query"),
    path("code/", views.CodeHistoryView.as_view(), name="code"),
    path("recall/", views.RecallView.as_view(), name="recall"),
    path("flows/", views.FlowsView.as_view(), name="flows"),
    path("stock/", views.StockView.as_view(), name="stock"),
    path("ingest/", views.IngestView.as_view(), name="ingest"),
    # 追溯线索 lead queue (anomaly scans), one lead, and the enterprise dossier's fragment.
    path("leads/", leads_views.LeadListView.as_view(), name="tracelead-list"),
    path("leads/<int:pk>/", leads_views.LeadDetailView.as_view(), name="tracelead-detail"),
    path("leads/enterprise/<int:pk>/", leads_views.EnterpriseLeadsView.as_view(), name="enterprise-leads"),
    path("leads/thresholds/", leads_views.ThresholdView.as_view(), name="thresholds"),
]
