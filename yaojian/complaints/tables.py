"""Complaint tables 投诉举报列表; the complainant appears only masked (脱敏)."""

import django_tables2 as tables

from yaojian.core.views_generic import RecordTable

from .models import Complaint


class ComplaintTable(RecordTable):
    number = tables.Column(linkify=True)
    enterprise = tables.Column(linkify=True)
    complainant = tables.Column(verbose_name="投诉人", accessor="complainant_name_masked", orderable=False)
    phone = tables.Column(verbose_name="联系电话", accessor="complainant_phone_masked", orderable=False)

    class Meta(RecordTable.Meta):
        model = Complaint
        fields = ("number", "enterprise", "subject", "channel", "received_on", "status", "complainant", "phone")
