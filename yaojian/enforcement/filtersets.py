import django_filters

from yaojian.core.filtersets import RegulatedFilterSet

from .models import Penalty, PenaltyKind


class PenaltyFilterSet(RegulatedFilterSet):
    search_fields = ("decision_number", "enterprise__name", "violation")

    kind = django_filters.MultipleChoiceFilter(label="处罚种类", choices=PenaltyKind.choices)
    decided_after = django_filters.DateFilter(label="处罚日期起", field_name="decided_on", lookup_expr="gte")
    decided_before = django_filters.DateFilter(label="处罚日期止", field_name="decided_on", lookup_expr="lte")

    class Meta:
        model = Penalty
        fields = ["q", "division", "enterprise", "product", "kind", "is_published", "decided_after", "decided_before"]
