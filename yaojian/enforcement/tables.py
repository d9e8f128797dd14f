"""Penalty tables 行政处罚列表 (internal list and the public notice 公示)."""

import django_tables2 as tables

from yaojian.core.views_generic import RecordTable

from .models import Penalty


class PenaltyTable(RecordTable):
    decision_number = tables.Column(linkify=True)
    enterprise = tables.Column(linkify=True)

    class Meta(RecordTable.Meta):
        model = Penalty
        fields = ("decision_number", "enterprise", "kind", "fine_amount", "decided_on", "is_published")


class PublicPenaltyTable(RecordTable):
    """Only what the notice publishes: no links into the internal system."""

    credit_code = tables.Column(verbose_name="统一社会信用代码", accessor="enterprise__credit_code")
    enterprise = tables.Column(verbose_name="当事人", accessor="enterprise__name")

    class Meta(RecordTable.Meta):
        model = Penalty
        fields = ("decision_number", "enterprise", "credit_code", "violation", "kind", "fine_amount", "decided_on")
