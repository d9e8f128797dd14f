from django.urls import path

from yaojian.core.views_generic import child_urls, record_urls

from . import views
from .models import Batch, Enterprise, Licence, Product, ProductPackage, Registration

app_name = "registry"


urlpatterns = [
    *record_urls(
        Enterprise,
        list_view=views.EnterpriseListView,
        detail_view=views.EnterpriseDetailView,
        edit_view=views.EnterpriseEditView,
        delete_view=views.EnterpriseDeleteView,
    ),
    path("<int:pk>/tab/<slug:tab>/", views.EnterpriseDetailView.as_view(), name="enterprise-tab"),
    *record_urls(
        Licence,
        prefix="licences/",
        list_view=views.LicenceListView,
        detail_view=views.LicenceDetailView,
        edit_view=views.LicenceEditView,
        delete_view=views.LicenceDeleteView,
    ),
    *record_urls(
        Product,
        prefix="products/",
        list_view=views.ProductListView,
        detail_view=views.ProductDetailView,
        edit_view=views.ProductEditView,
        delete_view=views.ProductDeleteView,
    ),
    *child_urls(
        Registration,
        views.RegistrationEditView,
        views.RegistrationDeleteView,
        parent="products",
        plural="registrations",
    ),
    *child_urls(Batch, views.BatchEditView, views.BatchDeleteView, parent="products", plural="batches"),
    *child_urls(
        ProductPackage,
        views.ProductPackageEditView,
        views.ProductPackageDeleteView,
        parent="products",
        plural="packages",
    ),
]
