from django.urls import path

from . import views

app_name = "risk"
urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("levels/", views.LevelListView.as_view(), name="riskassessment-list"),
    path("products/", views.ProductRiskListView.as_view(), name="productriskassessment-list"),
    path("cases/", views.CaseListView.as_view(), name="assistancecase-list"),
    path("cases/<int:pk>/", views.CaseDetailView.as_view(), name="assistancecase-detail"),
    path("pushes/", views.PushListView.as_view(), name="push-list"),
    path("pushes/<int:pk>/ack/", views.PushAcknowledgeView.as_view(), name="push-ack"),
    path("enterprises/<int:pk>/", views.EnterpriseRiskPanelView.as_view(), name="enterprise-panel"),
    path("config/", views.ConfigView.as_view(), name="config"),
]
