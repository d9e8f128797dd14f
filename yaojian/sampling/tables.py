"""Sampling tables 抽检列表."""

import django_tables2 as tables

from yaojian.core.views_generic import RecordTable

from .models import SamplingTest


class SamplingTestTable(RecordTable):
    number = tables.Column(linkify=True)
    enterprise = tables.Column(linkify=True)
    product = tables.Column(linkify=True)
    batch = tables.Column(accessor="batch__batch_number", verbose_name="批号")

    class Meta(RecordTable.Meta):
        model = SamplingTest
        fields = ("number", "enterprise", "product", "batch", "kind", "sampled_on", "result")
