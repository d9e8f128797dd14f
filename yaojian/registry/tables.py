"""Registry tables 列表 for the list pages, the dossier and exports."""

import django_tables2 as tables

from yaojian.core.views_generic import ROW_ACTIONS

from .models import Batch, Enterprise, Licence, Product, Registration


class EnterpriseTable(tables.Table):
    name = tables.Column(linkify=True)
    division = tables.Column(verbose_name="所在辖区", accessor="division__name")

    class Meta:
        model = Enterprise
        fields = ("name", "credit_code", "type", "division", "legal_representative", "status")
        empty_text = "暂无数据"


class LicenceTable(tables.Table):
    number = tables.Column(linkify=True)
    enterprise = tables.Column(linkify=True)

    class Meta:
        model = Licence
        fields = ("number", "type", "enterprise", "issued_on", "valid_until", "status")
        empty_text = "暂无数据"


class ProductTable(tables.Table):
    name = tables.Column(linkify=True)
    holder = tables.Column(linkify=True)

    class Meta:
        model = Product
        fields = ("name", "category", "approval_number", "holder", "dosage_form", "specification")
        empty_text = "暂无数据"


class RegistrationTable(tables.Table):
    actions = ROW_ACTIONS

    class Meta:
        model = Registration
        fields = ("number", "kind", "issued_on", "valid_until", "status", "actions")
        empty_text = "暂无数据"


class BatchTable(tables.Table):
    actions = ROW_ACTIONS

    class Meta:
        model = Batch
        fields = ("batch_number", "manufactured_on", "expires_on", "quantity", "actions")
        empty_text = "暂无数据"
