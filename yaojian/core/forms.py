"""Core forms 表单: the audit-trail query bar, the form of a new parameter version."""

import django_filters
from django import forms
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


class ParametersForm(forms.Form):
    """A new version of a versioned parameter set 参数新版本: one number field per entry of ``parameter_fields``
    — (name, label, int or float, lowest, highest) — and the revision note."""

    parameter_fields: tuple = ()
    note = forms.CharField(label="修订说明", max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label, kind, low, high in self.parameter_fields:
            field_class = forms.IntegerField if kind is int else forms.FloatField
            self.fields[name] = field_class(label=label, min_value=low, max_value=high)
        self.order_fields([name for name, *_ in self.parameter_fields] + ["note"])

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name, *_ in self.parameter_fields}
