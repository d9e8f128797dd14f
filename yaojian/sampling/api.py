"""REST API 接口: sampling tests 抽检."""

from ninja import Router

from yaojian.core.api import register_crud

from .filtersets import SamplingTestFilterSet
from .models import SamplingTest

router = Router()
register_crud(router, SamplingTest, "sampling-tests", SamplingTestFilterSet)
