"""REST API 接口: adverse-reaction reports 不良反应报告."""

from ninja import Router

from yaojian.core.api import register_crud

from .filtersets import AdrReportFilterSet
from .models import AdrReport

router = Router()
register_crud(router, AdrReport, "adr-reports", AdrReportFilterSet)
