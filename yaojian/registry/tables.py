"""Registry tables 列表 for the list pages, the dossier and exports."""

import django_tables2 as tables

from yaojian.core.views_generic import ROW_ACTIONS, RecordTable

from .models import Batch, Enterprise, Licence, Product, ProductPackage, Registration


class EnterpriseTable(RecordTable):
    name = tables.Column(linkify=True)
    division = tables.Column(verbose_name="所在辖区", accessor="division__name")
    latest_grade = tables.Column(verbose_name="信用等级", default="—")  # annotated by the list view

    class Meta(RecordTable.Meta):
        model = Enterprise
        fields = ("name", "credit_code", "type", "division", "legal_representative", "status", "latest_grade")


class LicenceTable(RecordTable):
    number = tables.Column(linkify=True)
    enterprise = tables.Column(linkify=True)

    class Meta(RecordTable.Meta):
        model = Licence
        fields = ("number", "type", "enterprise", "issued_on", "valid_until", "status")


class ProductTable(RecordTable):
    name = tables.Column(linkify=True)
    holder = tables.Column(linkify=True)

    class Meta(RecordTable.Meta):
        model = Product
        fields = ("name", "category", "approval_number", "holder", "dosage_form", "specification")


class RegistrationTable(RecordTable):
    actions = ROW_ACTIONS

    class Meta(RecordTable.Meta):
        model = Registration
        fields = ("number", "kind", "issued_on", "valid_until", "status", "actions")


class BatchTable(RecordTable):
    actions = ROW_ACTIONS

    class Meta(RecordTable.Meta):
        model = Batch
        fields = ("batch_number", "manufactured_on", "expires_on", "quantity", "actions")


class ProductPackageTable(RecordTable):
    actions = ROW_ACTIONS

    class Meta(RecordTable.Meta):
        model = ProductPackage
        fields = (
            "level",
            "identifier",
            "package_specification",
            "units_per_pack",
            "split_units",
            "is_active",
            "actions",
        )
