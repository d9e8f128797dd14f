"""Query bars 查询条件 of the purchase records and the alerts."""

import django_filters

from yaojian.core.filtersets import RegulatedFilterSet

from .models import Alert, AlertLevel, AlertStatus, DrugClass, PurchaseRecord


class PurchaseRecordFilterSet(RegulatedFilterSet):
    """Pharmacy, receipt and drug by keyword; class, sale dates, district. Buyers are not searchable in clear."""

    search_fields = ("pharmacy__name", "receipt_number", "drug_name")
    q = django_filters.CharFilter(label="药店/小票号/药品", method="filter_q")
    drug_class = django_filters.ModelChoiceFilter(label="监测类别", queryset=DrugClass.objects.all())
    sold_from = django_filters.DateFilter(label="销售日期起", field_name="sold_on", lookup_expr="gte")
    sold_to = django_filters.DateFilter(label="销售日期至", field_name="sold_on", lookup_expr="lte")

    class Meta:
        model = PurchaseRecord
        fields = ["q", "drug_class", "sold_from", "sold_to", "division"]


class AlertFilterSet(RegulatedFilterSet):
    status = django_filters.ChoiceFilter(label="处置状态", choices=AlertStatus.choices)
    drug_class = django_filters.ModelChoiceFilter(label="监测类别", queryset=DrugClass.objects.all())
    level = django_filters.ChoiceFilter(label="触发层级", choices=AlertLevel.choices)
    day_from = django_filters.DateFilter(label="触发日期起", field_name="last_day", lookup_expr="gte")
    day_to = django_filters.DateFilter(label="触发日期至", field_name="first_day", lookup_expr="lte")

    class Meta:
        model = Alert
        fields = ["status", "drug_class", "level", "day_from", "day_to", "division"]
