"""ADR tables 不良反应列表."""

import django_tables2 as tables

from yaojian.core.views_generic import RecordTable

from .models import AdrReport


class AdrReportTable(RecordTable):
    report_number = tables.Column(linkify=True)
    enterprise = tables.Column(linkify=True)
    product = tables.Column(linkify=True)

    class Meta(RecordTable.Meta):
        model = AdrReport
        fields = (
            "report_number",
            "source",
            "enterprise",
            "product",
            "reaction",
            "seriousness",
            "causality",
            "reported_on",
        )
