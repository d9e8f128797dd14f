"""REST API 接口: enterprises, licences, products, registrations and batches 主体与品种档案."""

from ninja import Router

from yaojian.core.api import register_crud

from .filtersets import BatchFilterSet, EnterpriseFilterSet, LicenceFilterSet, ProductFilterSet, RegistrationFilterSet
from .models import Batch, Enterprise, Licence, Product, Registration

router = Router()
register_crud(router, Enterprise, "enterprises", EnterpriseFilterSet)
register_crud(router, Licence, "licences", LicenceFilterSet)
register_crud(router, Product, "products", ProductFilterSet)
register_crud(router, Registration, "registrations", RegistrationFilterSet)
register_crud(router, Batch, "batches", BatchFilterSet)
