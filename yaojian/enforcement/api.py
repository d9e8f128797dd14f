"""REST API 接口: administrative penalties 行政处罚."""

from ninja import Router

from yaojian.core.api import register_crud

from .filtersets import PenaltyFilterSet
from .models import Penalty

router = Router()
register_crud(router, Penalty, "penalties", PenaltyFilterSet)
