import django_filters

from yaojian.core.filtersets import RegulatedFilterSet

from .models import SamplingKind, SamplingResult, SamplingTest


class SamplingTestFilterSet(RegulatedFilterSet):
    search_fields = ("number", "enterprise__name", "product__name", "failed_items")

    kind = django_filters.ChoiceFilter(label="抽检类型", choices=SamplingKind.choices)
    result = django_filters.ChoiceFilter(label="检验结论", choices=SamplingResult.choices)
    sampled_after = django_filters.DateFilter(label="抽样日期起", field_name="sampled_on", lookup_expr="gte")
    sampled_before = django_filters.DateFilter(label="抽样日期止", field_name="sampled_on", lookup_expr="lte")

    class Meta:
        model = SamplingTest
        fields = [
            "q",
            "division",
            "enterprise",
            "product",
            "batch",
            "kind",
            "result",
            "sampled_after",
            "sampled_before",
        ]
