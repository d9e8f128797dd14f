"""Shared filter pieces 查询条件. One FilterSet per model serves both its list page and its API."""

import django_filters
from django.db.models import Q


class RegulatedFilterSet(django_filters.FilterSet):
    """Adds a keyword box (``q``) over ``search_fields`` and a division-subtree filter."""

    search_fields: tuple[str, ...] = ()

    q = django_filters.CharFilter(label="关键字", method="filter_q")
    division = django_filters.CharFilter(label="行政区划代码", method="filter_division")

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value or not self.search_fields:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    def filter_division(self, queryset, name, value):
        from yaojian.core.models import Division

        division = Division.objects.filter(code=value.strip()).first()
        if division is None:
            return queryset.none()
        return queryset.filter(division_code__startswith=division.prefix)
