"""REST API 接口: complaints and reports 投诉举报 (complainant identity masked)."""

from ninja import Router

from yaojian.core.api import register_crud

from .filtersets import ComplaintFilterSet
from .models import Complaint

router = Router()
register_crud(router, Complaint, "complaints", ComplaintFilterSet)
