"""List tables 列表 (django-tables2): buyers appear masked here and in every export."""

import django_tables2 as tables

from yaojian.core.models import Division
from yaojian.core.views_generic import RecordTable

from .models import Alert, PurchaseRecord


class PurchaseRecordTable(RecordTable):
    receipt_number = tables.Column(verbose_name="小票号", linkify=True)
    buyer_name = tables.Column(verbose_name="购药人", accessor="buyer_name_masked", orderable=False)
    buyer_id_number = tables.Column(verbose_name="身份证号", accessor="buyer_id_number_masked", orderable=False)

    class Meta(RecordTable.Meta):
        model = PurchaseRecord
        fields = ("receipt_number", "line", "sold_at", "pharmacy", "drug_name", "drug_class", "quantity")
        sequence = (*fields, "buyer_name", "buyer_id_number")


def division_names(codes) -> dict[str, str]:
    return dict(Division.objects.filter(code__in=set(codes)).values_list("code", "name"))


class AlertTable(RecordTable):
    id = tables.Column(verbose_name="编号", linkify=True)
    area = tables.Column(verbose_name="区域", accessor="division_code")
    detectors = tables.Column(verbose_name="触发方法", accessor="detector_labels", orderable=False)

    class Meta(RecordTable.Meta):
        model = Alert
        fields = (
            "id",
            "last_day",
            "first_day",
            "drug_class",
            "area",
            "level",
            "n_points",
            "detectors",
            "status",
            "assignee",
        )

    def area_names(self) -> dict[str, str]:
        if not hasattr(self, "_area_names"):  # one query for the whole table (alerts cover few areas)
            self._area_names = division_names(self.data.data.values_list("division_code", flat=True).distinct())
        return self._area_names

    def render_area(self, value):
        return self.area_names().get(value, value)

    def value_area(self, value):
        return self.area_names().get(value, value)
