import django_filters
from django.utils import timezone

from yaojian.core.filtersets import RegulatedFilterSet
from yaojian.registry.choices import EnterpriseType, ProductCategory

from .models import AssistanceCase, CaseStatus, ProductRiskAssessment, Push, RiskAssessment, SupervisionLevel


class RiskAssessmentFilterSet(RegulatedFilterSet):
    search_fields = ("enterprise__name", "enterprise__credit_code")

    level = django_filters.MultipleChoiceFilter(label="监管级别", choices=SupervisionLevel.choices)
    enterprise_type = django_filters.MultipleChoiceFilter(
        label="企业类型", field_name="enterprise__type", choices=EnterpriseType.choices
    )
    overdue = django_filters.BooleanFilter(label="仅显示逾期未检", method="filter_overdue")

    class Meta:
        model = RiskAssessment
        fields = ["q", "division", "level", "enterprise_type", "overdue"]

    def filter_overdue(self, queryset, name, value):
        today = timezone.localdate()
        if value is None:
            return queryset
        return (
            queryset.filter(next_inspection_due__lt=today) if value else queryset.filter(next_inspection_due__gte=today)
        )


class ProductRiskFilterSet(RegulatedFilterSet):
    search_fields = ("product__name", "product__approval_number", "product__holder__name")

    level = django_filters.MultipleChoiceFilter(label="风险等级", choices=SupervisionLevel.choices)
    category = django_filters.MultipleChoiceFilter(
        label="产品类别", field_name="product__category", choices=ProductCategory.choices
    )

    class Meta:
        model = ProductRiskAssessment
        fields = ["q", "division", "level", "category"]


class AssistanceCaseFilterSet(RegulatedFilterSet):
    search_fields = ("enterprise__name",)

    status = django_filters.ChoiceFilter(label="状态", choices=CaseStatus.choices)
    overdue = django_filters.BooleanFilter(label="仅显示逾期", method="filter_overdue")

    class Meta:
        model = AssistanceCase
        fields = ["q", "division", "status", "overdue"]

    def filter_overdue(self, queryset, name, value):
        if value:
            return queryset.filter(status=CaseStatus.OPEN, due_on__lt=timezone.localdate())
        return queryset


class PushFilterSet(RegulatedFilterSet):
    search_fields = ("enterprise__name", "enterprise__credit_code")

    acknowledged = django_filters.BooleanFilter(
        label="已签收", field_name="acknowledged_at", lookup_expr="isnull", exclude=True
    )
    current = django_filters.BooleanFilter(label="仅当前有效", field_name="revoked_on", lookup_expr="isnull")

    class Meta:
        model = Push
        fields = ["q", "division", "department", "tag", "acknowledged", "current"]
