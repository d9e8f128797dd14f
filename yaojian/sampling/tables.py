"""Sampling tables 抽检列表."""

import django_tables2 as tables

from .models import SamplingTest


class SamplingTestTable(tables.Table):
    number = tables.Column(linkify=True)
    enterprise = tables.Column(linkify=True)
    product = tables.Column(linkify=True)
    batch = tables.Column(accessor="batch__batch_number", verbose_name="批号")

    class Meta:
        model = SamplingTest
        fields = ("number", "enterprise", "product", "batch", "kind", "sampled_on", "result")
        empty_text = "暂无数据"
