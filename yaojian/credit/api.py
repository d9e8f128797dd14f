"""REST API 接口: credit ratings 信用评价."""

from ninja import Router

from yaojian.core.api import register_crud

from .filtersets import CreditRatingFilterSet
from .models import CreditRating

router = Router()
register_crud(router, CreditRating, "credit-ratings", CreditRatingFilterSet)
