from django.urls import path

from . import views

app_name = "signals"

urlpatterns = [
    path("", views.SignalListView.as_view(), name="signal-list"),
    path("<int:pk>/", views.SignalDetailView.as_view(), name="signal-detail"),
    path("runs/", views.SignalRunListView.as_view(), name="signalrun-list"),
    path("runs/add/", views.SignalRunAddView.as_view(), name="signalrun-add"),
    path("runs/<int:pk>/", views.SignalRunDetailView.as_view(), name="signalrun-detail"),
    path("pairs/<int:pk>/", views.PairResultDetailView.as_view(), name="pairresult-detail"),
    path("products/<int:pk>/", views.ProductSignalsView.as_view(), name="product-signals"),
]
