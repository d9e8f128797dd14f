"""Query bars 查询条件 of the site and cluster lists."""

import django_filters

from yaojian.core.filtersets import RegulatedFilterSet

from .models import Cluster, ClusterStatus, Layer, SentinelSite, SiteKind


class SentinelSiteFilterSet(RegulatedFilterSet):
    search_fields = ("enterprise__name", "note")

    kind = django_filters.ChoiceFilter(label="哨点类型", choices=SiteKind.choices)

    class Meta:
        model = SentinelSite
        fields = ["q", "division", "kind"]


class ClusterFilterSet(RegulatedFilterSet):
    search_fields = ("product__name", "product__approval_number", "batch__batch_number")

    layer = django_filters.ChoiceFilter(label="检测层", choices=Layer.choices)
    status = django_filters.ChoiceFilter(label="状态", choices=ClusterStatus.choices)
    detected_after = django_filters.DateFilter(label="检出日期起", field_name="detected_on", lookup_expr="gte")
    detected_before = django_filters.DateFilter(label="检出日期止", field_name="detected_on", lookup_expr="lte")

    class Meta:
        model = Cluster
        fields = ["q", "division", "layer", "status", "detected_after", "detected_before"]
