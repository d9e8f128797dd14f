"""REST API 接口: enterprises, licences, products (with their packaging levels), registrations and batches."""

from ninja import Router

from yaojian.core.api import register_crud

from .filtersets import (
    BatchFilterSet,
    EnterpriseFilterSet,
    LicenceFilterSet,
    ProductFilterSet,
    ProductPackageFilterSet,
    RegistrationFilterSet,
)
from .models import Batch, Enterprise, Licence, Product, ProductPackage, Registration

router = Router()
register_crud(router, Enterprise, "enterprises", EnterpriseFilterSet)
register_crud(router, Licence, "licences", LicenceFilterSet)
register_crud(router, Product, "products", ProductFilterSet)
register_crud(router, ProductPackage, "packages", ProductPackageFilterSet)
register_crud(router, Registration, "registrations", RegistrationFilterSet)
register_crud(router, Batch, "batches", BatchFilterSet)
