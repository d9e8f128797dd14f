"""Credit-rating tables 信用评价列表."""

import django_tables2 as tables

from .models import CreditRating


class CreditRatingTable(tables.Table):
    enterprise = tables.Column(linkify=True)
    grade = tables.Column(linkify=True)

    class Meta:
        model = CreditRating
        fields = ("enterprise", "grade", "rated_on", "valid_until", "basis")
        empty_text = "暂无数据"
