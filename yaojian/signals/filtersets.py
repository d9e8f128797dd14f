"""Query bars 查询条件 of the signal workbench."""

import django_filters
from django.db.models import Exists, OuterRef, Q

from .models import PairResult, RunStatus, Signal, SignalRun, SignalStatus


class SignalFilterSet(django_filters.FilterSet):
    """Signals by status, product, event, run and measure thresholds (on the latest result)."""

    q = django_filters.CharFilter(label="药品/事件", method="filter_q")
    status = django_filters.ChoiceFilter(label="处置状态", choices=SignalStatus.choices, empty_label="全部")
    event = django_filters.CharFilter(label="不良事件", field_name="event_label", lookup_expr="icontains")
    run = django_filters.NumberFilter(label="检测批次（编号）", method="filter_run")
    min_n = django_filters.NumberFilter(label="N ≥", field_name="latest_result__n", lookup_expr="gte")
    min_prr = django_filters.NumberFilter(label="PRR ≥", field_name="latest_result__prr", lookup_expr="gte")
    min_ror025 = django_filters.NumberFilter(label="ROR025 ≥", field_name="latest_result__ror_lo", lookup_expr="gte")
    min_ic025 = django_filters.NumberFilter(label="IC025 ≥", field_name="latest_result__ic025", lookup_expr="gte")
    min_eb05 = django_filters.NumberFilter(label="EB05 ≥", field_name="latest_result__eb05", lookup_expr="gte")

    class Meta:
        model = Signal
        fields = ["q", "status", "product", "event", "run", "min_n", "min_prr", "min_ror025", "min_ic025", "min_eb05"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(drug_label__icontains=value) | Q(event_label__icontains=value)) if value else queryset

    def filter_run(self, queryset, name, value):
        """Signals whose pair met the criteria in that run 该批次中满足标准."""
        met = PairResult.objects.filter(
            run_id=value, drug_key=OuterRef("drug_key"), event_key=OuterRef("event_key"), meets_criteria=True
        )
        return queryset.filter(Exists(met))


class SignalRunFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label="状态", choices=RunStatus.choices)
    started_after = django_filters.DateFilter(label="检测日期起", field_name="started_at", lookup_expr="date__gte")

    class Meta:
        model = SignalRun
        fields = ["status", "category", "started_after"]


class PairResultFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="药品/事件", method="filter_q")
    meets_criteria = django_filters.ChoiceFilter(
        label="满足判定标准", choices=(("1", "是"), ("0", "否")), method="filter_meets", empty_label="全部"
    )
    min_n = django_filters.NumberFilter(label="N ≥", field_name="n", lookup_expr="gte")

    class Meta:
        model = PairResult
        fields = ["q", "meets_criteria", "min_n"]

    filter_q = SignalFilterSet.filter_q

    def filter_meets(self, queryset, name, value):
        return queryset.filter(meets_criteria=value == "1")
