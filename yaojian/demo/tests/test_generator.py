"""Demo generator 演示数据: deterministic, complete, valid identifiers, audited, with ground truth."""

import csv
import hashlib

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from yaojian.adr.models import AdrReaction, AdrReport
from yaojian.core import audit
from yaojian.core.identifiers import check_product_number, check_uscc
from yaojian.core.models import AuditRecord, User
from yaojian.demo import generator
from yaojian.registry.choices import EnterpriseType
from yaojian.registry.models import Enterprise, Product, ProductPackage
from yaojian.registry.packaging import default_identifier

MODELS = [
    "registry.Enterprise",
    "registry.Product",
    "registry.Batch",
    "registry.Licence",
    "inspections.Inspection",
    "inspections.Defect",
    "sampling.SamplingTest",
    "adr.AdrReport",
    "adr.AdrDrug",
    "adr.AdrReaction",
    "complaints.Complaint",
    "enforcement.Penalty",
    "credit.CreditRating",
]


def checksum() -> str:
    """A digest of the natural keys and key values of every generated table."""
    digest = hashlib.sha256()
    for label in MODELS:
        model = apps.get_model(label)
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", "created_at", "updated_at")]
        fields = [f for f in fields if not f.endswith("_id") and f not in ("complainant_name", "complainant_phone")]
        # Sorted in Python: ties in any ORDER BY come back in backend-specific order.
        for row in sorted(repr(row) for row in model.objects.values_list(*fields)):
            digest.update(row.encode())
    return digest.hexdigest()


@pytest.fixture
def tiny(db):
    return generator.generate(scale="tiny", seed=7)


def wipe():
    """Empty the generated tables, children first."""
    with connection.cursor() as cursor:
        for label in reversed(MODELS + ["registry.Registration", "registry.ProductPackage"]):
            cursor.execute(f"DELETE FROM {apps.get_model(label)._meta.db_table}")


def test_same_seed_same_data_and_different_seed_differs(tiny):
    first = checksum()
    wipe()
    generator.generate(scale="tiny", seed=7, as_of=tiny.as_of)
    assert checksum() == first
    wipe()
    generator.generate(scale="tiny", seed=8, as_of=tiny.as_of)
    assert checksum() != first


def test_every_type_and_valid_identifiers(tiny):
    assert set(Enterprise.objects.values_list("type", flat=True)) == set(EnterpriseType.values)
    for code in Enterprise.objects.values_list("credit_code", flat=True):
        assert check_uscc(code) is None, code
    for category, number in Product.objects.values_list("category", "approval_number"):
        assert check_product_number(category, number) is None, number
    assert {c for c in Product.objects.values_list("category", flat=True)} == {"drug", "device", "cosmetic"}


def test_drugs_get_their_packaging_levels(tiny):
    """Every drug has a unit, case and pallet level with a valid, distinct 药品标识码; other products none."""
    drugs = Product.objects.filter(category="drug")
    packages = ProductPackage.objects.filter(product__in=drugs)
    assert packages.count() == 3 * drugs.count() and not ProductPackage.objects.exclude(product__in=drugs).exists()
    for package in packages.select_related("product"):
        package.full_clean()
        assert package.identifier == default_identifier(package.product_id, package.level)
        assert package.division_code == package.product.division_code


def test_records_carry_their_enterprise_division(tiny):
    for label, path in [
        ("registry.Licence", "enterprise__division_id"),
        ("inspections.Inspection", "enterprise__division_id"),
        ("adr.AdrReport", "enterprise__division_id"),
        ("registry.Product", "holder__division_id"),
        ("inspections.Defect", "inspection__enterprise__division_id"),
        ("complaints.Complaint", "enterprise__division_id"),
    ]:
        rows = apps.get_model(label).objects.values_list("division_code", path)
        assert rows and all(a == b for a, b in rows), label


def test_one_audit_record_per_table_and_chain_intact(tiny):
    records = AuditRecord.objects.filter(action="import")
    assert records.count() == len(tiny.counts)
    assert all(r.after["seed"] == 7 and r.after["rows"] > 0 for r in records)
    assert audit.verify_chain().ok


def test_ground_truth_file(tiny, tmp_path):
    path = tmp_path / "truth.csv"
    n = generator.write_ground_truth(tiny, path)
    with open(path, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == Enterprise.objects.count() and sum(int(r["is_bad_actor"]) for r in rows) == n
    codes = set(Enterprise.objects.values_list("credit_code", flat=True))
    assert {r["credit_code"] for r in rows} == codes
    assert all(r["onset_date"] for r in rows if r["is_bad_actor"] == "1")


def test_planted_signals_file_and_reports(tiny, tmp_path):
    path = tmp_path / "signals.csv"
    assert generator.write_signal_truth(tiny, path) == len(tiny.signals) >= 1
    with open(path, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        reports = AdrReport.objects.filter(product_id=row["product_id"], reaction=row["reaction"])
        assert reports.count() == int(row["planted_cases"])
        # The reaction row agrees with the summary column the plant rewrote.
        assert AdrReaction.objects.filter(report__in=reports, position=1, reported_term=row["reaction"]).count() == int(
            row["planted_cases"]
        )


def test_demo_command_is_idempotent_and_prints_logins(db, capsys, settings):
    settings.YAOJIAN_RISK_INCREMENTAL = False
    from yaojian.demo.management.commands import demo

    # Keep the test small: generate the tiny scale in place of the district.
    original = generator.SCALES["district"]
    generator.SCALES["district"] = generator.SCALES["tiny"]
    try:
        call_command("demo", "--if-empty")
        first = Enterprise.objects.count()
        call_command("demo", "--if-empty")
    finally:
        generator.SCALES["district"] = original
    out = capsys.readouterr().out
    assert Enterprise.objects.count() == first
    assert {u for u, *_ in demo.ACCOUNTS} <= set(User.objects.values_list("username", flat=True))
    assert "district" in out and demo.DEMO_PASSWORD in out
    enterprise_user = User.objects.get(username="enterprise")
    assert enterprise_user.enterprise is not None and enterprise_user.enterprise.division_id == "320106"
    assert User.objects.get(username="district").check_password(demo.DEMO_PASSWORD)
