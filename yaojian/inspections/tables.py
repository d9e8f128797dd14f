"""Inspection tables 检查列表."""

import django_tables2 as tables

from yaojian.core.views_generic import ROW_ACTIONS

from .models import Defect, Inspection


class InspectionTable(tables.Table):
    number = tables.Column(linkify=True)
    enterprise = tables.Column(linkify=True)
    defect_count = tables.Column(verbose_name="缺陷数", orderable=False, accessor="defect_count", default=0)

    class Meta:
        model = Inspection
        fields = ("number", "enterprise", "kind", "inspected_on", "conclusion", "defect_count")
        empty_text = "暂无数据"


class DefectTable(tables.Table):
    actions = ROW_ACTIONS

    class Meta:
        model = Defect
        fields = ("code", "grade", "description", "rectification_due", "rectified_on", "actions")
        empty_text = "暂无数据"
