"""Inspection tables 检查列表."""

import django_tables2 as tables

from yaojian.core.views_generic import ROW_ACTIONS, RecordTable

from .models import Defect, Inspection


class InspectionTable(RecordTable):
    number = tables.Column(linkify=True)
    enterprise = tables.Column(linkify=True)
    defect_count = tables.Column(verbose_name="缺陷数", orderable=False, accessor="defect_count", default=0)

    class Meta(RecordTable.Meta):
        model = Inspection
        fields = ("number", "enterprise", "kind", "inspected_on", "conclusion", "defect_count")


class DefectTable(RecordTable):
    actions = ROW_ACTIONS

    class Meta(RecordTable.Meta):
        model = Defect
        fields = ("code", "grade", "description", "rectification_due", "rectified_on", "actions")
