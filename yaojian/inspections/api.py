"""REST API 接口: inspections and defects 监督检查与缺陷."""

from ninja import Router

from yaojian.core.api import register_crud

from .filtersets import DefectFilterSet, InspectionFilterSet
from .models import Defect, Inspection

router = Router()
register_crud(router, Inspection, "inspections", InspectionFilterSet)
register_crud(router, Defect, "defects", DefectFilterSet)
