"""Credit-rating tables 信用评价列表."""

import django_tables2 as tables

from yaojian.core.views_generic import RecordTable

from .models import CreditRating


class CreditRatingTable(RecordTable):
    enterprise = tables.Column(linkify=True)
    grade = tables.Column(linkify=True)

    class Meta(RecordTable.Meta):
        model = CreditRating
        fields = ("enterprise", "grade", "rated_on", "valid_until", "basis")
