"""Core forms 表单: the audit-trail query bar."""

import django_filters
from django.apps import apps

from . import access
from .choices import AuditAction
from .models import AuditRecord


class AuditRecordFilterSet(django_filters.FilterSet):
    """Audit query 审计查询: actor, action, object type, date range."""

    actor = django_filters.CharFilter(label="操作人", field_name="actor_name", lookup_expr="icontains")
    action = django_filters.ChoiceFilter(label="操作", choices=AuditAction.choices)
    object_type = django_filters.ChoiceFilter(label="对象类型", choices=lambda: object_types())
    since = django_filters.DateFilter(label="起始日期", field_name="timestamp", lookup_expr="date__gte")
    until = django_filters.DateFilter(label="截止日期", field_name="timestamp", lookup_expr="date__lte")

    class Meta:
        model = AuditRecord
        fields = ["actor", "action", "object_type", "since", "until"]


def object_types() -> list[tuple[str, str]]:
    """Kinds of audited record, named in Chinese, for the object-type choice."""
    return [(label, apps.get_model(label)._meta.verbose_name) for label in access.REGULATED]
