from django.contrib.auth import views as auth_views
from django.urls import path

from yaojian.enforcement.views import PublicPenaltyListView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("audit/", views.AuditListView.as_view(), name="audit-list"),
    path("audit/<int:seq>/", views.AuditDetailView.as_view(), name="audit-detail"),
    path("public/penalties/", PublicPenaltyListView.as_view(), name="public-penalties"),
]
