"""List tables 列表 of sites and clusters."""

import django_tables2 as tables

from yaojian.core.views_generic import RecordTable

from .models import Cluster, SentinelSite


class SentinelSiteTable(RecordTable):
    enterprise = tables.Column(linkify=lambda record: record.get_absolute_url(), verbose_name="哨点单位")
    watched_groups = tables.Column(accessor="watched_groups_display", verbose_name="重点监测品种", orderable=False)
    division = tables.Column(accessor="enterprise__division__name", verbose_name="所在辖区")

    class Meta(RecordTable.Meta):
        model = SentinelSite
        fields = ("enterprise", "kind", "division", "watched_groups", "active_from", "active_to")


class ClusterTable(RecordTable):
    pk = tables.Column(linkify=True, verbose_name="编号")
    product = tables.Column(verbose_name="产品")
    batch = tables.Column(accessor="batch__batch_number", verbose_name="批号")
    area = tables.Column(accessor="area_display", verbose_name="地区", orderable=False)
    p_value = tables.Column(verbose_name="P 值")

    class Meta(RecordTable.Meta):
        model = Cluster
        fields = (
            "pk",
            "layer",
            "product",
            "batch",
            "area",
            "first_day",
            "last_day",
            "case_count",
            "p_value",
            "detected_on",
            "status",
        )

    def render_p_value(self, value):
        return f"{value:.3f}"
