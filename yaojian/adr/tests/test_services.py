"""Case write path 病例写入: summary columns follow the children, registry matching, audit, change notice;
CSV/Excel import creates the first suspect drug and reaction; the ``yaojian adr`` command."""

import datetime
import pathlib
import xml.etree.ElementTree as ET

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from yaojian.adr import services
from yaojian.adr.models import AdrDrug, AdrReaction, AdrReport
from yaojian.core.models import AuditRecord
from yaojian.core.services import records_changed
from yaojian.imports.engine import run_import
from yaojian.imports.tests.test_engine import write_csv

EXAMPLES = pathlib.Path(__file__).resolve().parents[4] / "shared" / "data" / "e2b-examples"
DAY = datetime.date(2025, 6, 1)


def _save(world, actor, reactions, drugs=None, report=None, number="ADR-S-1"):
    product = world.products["gulou"]
    drugs = (
        drugs
        if drugs is not None
        else [
            {"role": "concomitant", "name": "维生素C片"},
            {
                "role": "suspect",
                "name": product.name,
                "approval_number": f" {product.approval_number} ",
                "batch_number": "B1001",
            },
        ]
    )
    fields = {"report_number": number, "reported_on": DAY, "division_code": "320106"}
    return services.save_case(actor=actor, fields=fields, drugs=drugs, reactions=reactions, report=report)


@pytest.mark.parametrize(
    ("reactions", "expected"),
    [
        ([{"reported_term": "皮疹"}], "general"),
        ([{"reported_term": "皮疹"}, {"reported_term": "喉头水肿", "life_threatening": True}], "serious"),
        (
            [{"reported_term": "皮疹", "hospitalisation": True}, {"reported_term": "死亡", "results_in_death": True}],
            "death",
        ),
        ([{"reported_term": "过敏性休克", "outcome": "death"}], "death"),
    ],
)
def test_seriousness_follows_the_reactions(world, reactions, expected):
    report = _save(world, world.users["district"], reactions)
    assert report.seriousness == expected
    assert report.reaction == reactions[0]["reported_term"]


def test_first_suspect_drug_is_matched_to_the_registry(world):
    report = _save(world, world.users["district"], [{"reported_term": "皮疹"}])
    batch = world.records[("gulou", "registry.batch")]
    assert (report.product, report.batch) == (world.products["gulou"], batch)
    assert report.enterprise == world.enterprises["gulou"]  # the holder of the matched product
    suspect = report.drugs.get(role="suspect")
    assert (suspect.product, suspect.batch, suspect.position) == (world.products["gulou"], batch, 2)
    assert report.drugs.get(role="concomitant").product is None


def test_update_replaces_children_and_audits_once_per_set(world, django_capture_on_commit_callbacks):
    user = world.users["district"]
    seen = []
    records_changed.connect(receiver := lambda sender, enterprise_ids, **kw: seen.append(enterprise_ids))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            report = _save(world, user, [{"reported_term": "皮疹"}])
        with django_capture_on_commit_callbacks(execute=True):
            _save(world, user, [{"reported_term": "头晕", "disabling": True}], report=report)
    finally:
        records_changed.disconnect(receiver)
    report.refresh_from_db()
    assert (report.reaction, report.seriousness) == ("头晕", "serious")
    assert list(report.reactions.values_list("reported_term", flat=True)) == ["头晕"]
    records = AuditRecord.objects.filter(object_id=str(report.pk), object_type__startswith="adr.").order_by("seq")
    types = list(records.values_list("object_type", "action"))
    assert types == [
        ("adr.adrreport", "create"),
        ("adr.adrdrug", "create"),
        ("adr.adrreaction", "create"),
        ("adr.adrreport", "update"),
        ("adr.adrreaction", "update"),  # drugs unchanged: no record
    ]
    assert AuditRecord.objects.get(object_type="adr.adrreport", action="create").actor == user
    assert {world.enterprises["gulou"].pk} in seen


def test_a_case_needs_a_reaction_and_a_writer_in_scope(world):
    with pytest.raises(ValidationError):
        _save(world, world.users["district"], [])
    with pytest.raises(PermissionDenied):
        _save(world, world.users["inspector"], [{"reported_term": "皮疹"}])
    assert not AdrReport.objects.filter(report_number="ADR-S-1").exists()
    assert not AdrDrug.objects.exists() and not AdrReaction.objects.exists()


# --- CSV/Excel import -------------------------------------------------------------------------

HEADER = [
    "报告编码",
    "企业统一社会信用代码",
    "来源",
    "报告单位统一社会信用代码",
    "怀疑产品批准文号",
    "批号",
    "首次获知日期",
    "报告日期",
    "不良反应名称",
    "严重程度",
    "关联性评价",
]


def _rows(world, seriousness="严重"):
    ent, product = world.enterprises["gulou"], world.products["gulou"]
    return [
        HEADER,
        [
            "ADRC-1",
            ent.credit_code,
            "哨点",
            ent.credit_code,
            product.approval_number,
            "B1001",
            "2025-05-28",
            "2025-06-01",
            "皮疹",
            seriousness,
            "很可能",
        ],
        ["ADRC-2", ent.credit_code, "医疗机构", "", "", "", "", "2025-06-02", "头晕", "一般", ""],
    ]


def test_csv_import_creates_first_drug_and_reaction_idempotently(world, tmp_path):
    path = write_csv(tmp_path / "adr.csv", _rows(world))
    result = run_import("adr", path)
    assert result.imported and result.created == 2, result.errors
    first = AdrReport.objects.get(report_number="ADRC-1")
    assert (first.source, first.causality, first.received_on) == ("sentinel", "probable", datetime.date(2025, 5, 28))
    assert first.reporting_enterprise == world.enterprises["gulou"]
    drug = first.drugs.get()
    assert (drug.role, drug.product, drug.batch_number, drug.causality) == (
        "suspect",
        first.product,
        "B1001",
        "probable",
    )
    reaction = first.reactions.get()
    assert reaction.reported_term == "皮疹" and reaction.is_serious
    second = AdrReport.objects.get(report_number="ADRC-2")
    assert second.drugs.count() == 0 and second.reactions.get().reported_term == "头晕"

    result = run_import("adr", write_csv(tmp_path / "adr2.csv", _rows(world, "一般")))
    assert result.updated == 2
    assert AdrDrug.objects.filter(report__report_number__startswith="ADRC").count() == 1
    assert AdrReaction.objects.filter(report__report_number__startswith="ADRC").count() == 2
    assert not AdrReaction.objects.get(report__report_number="ADRC-1").is_serious


# --- command line -----------------------------------------------------------------------------


def test_command_imports_with_ack_and_exports(world, tmp_path, capsys):
    acks = tmp_path / "acks"
    call_command(
        "adr",
        "import-e2b",
        str(EXAMPLES / "FAERS2022Scenario1.xml"),
        str(EXAMPLES / "FAERS2022Scenario4.xml"),
        "--ack-dir",
        str(acks),
        "--division",
        "320106",
    )
    out = capsys.readouterr().out
    assert "AA" in out and "US-APHARMA-222222222" in out
    ack = ET.parse(acks / "FAERS2022Scenario1.ack.xml").getroot()
    assert ack.tag == "{urn:hl7-org:v3}MCCI_IN200101UV01"
    target = tmp_path / "out.xml"
    call_command("adr", "export-e2b", "--out", str(target), "--report-number", "US-APHARMA-222222222")
    root = ET.parse(target).getroot()
    assert len(root.findall("{urn:hl7-org:v3}PORR_IN049016UV")) == 1


def test_command_refuses_a_bad_file(world, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<MCCI_IN200100UV01 xmlns='urn:hl7-org:v3'><id")
    with pytest.raises(CommandError, match="1 个文件被拒绝"):
        call_command("adr", "import-e2b", str(bad), "--division", "320106")
    with pytest.raises(CommandError, match="--division"):
        call_command("adr", "import-e2b", str(bad))


# --- demo generator -----------------------------------------------------------------------------


def test_generated_cases_have_consistent_children(db):
    from django.db.models import Count, Q

    from yaojian.demo import generator

    generator.generate(scale="tiny", seed=3)
    reports = AdrReport.objects.annotate(
        suspects=Count("drugs", filter=Q(drugs__role="suspect"), distinct=True),
        deaths=Count("reactions", filter=Q(reactions__results_in_death=True), distinct=True),
        serious=Count(
            "reactions",
            filter=Q(reactions__life_threatening=True)
            | Q(reactions__hospitalisation=True)
            | Q(reactions__disabling=True)
            | Q(reactions__other_medically_important=True),
            distinct=True,
        ),
    )
    assert reports.count() > 100
    assert not reports.exclude(suspects=1).exists()
    assert not reports.filter(seriousness="death").exclude(deaths__gte=1).exists()
    assert not reports.filter(seriousness="serious").exclude(serious__gte=1).exists()
    assert not reports.filter(seriousness="general").filter(Q(deaths__gt=0) | Q(serious__gt=0)).exists()
    first = AdrReaction.objects.filter(position=1).select_related("report")
    assert all(r.reported_term == r.report.reaction for r in first)
    assert AdrReport.objects.filter(
        source="sentinel", reporting_enterprise__isnull=False, sold_on__isnull=False
    ).exists()
    assert not AdrReport.objects.filter(source="sentinel", reporting_enterprise__isnull=True).exists()
    lags = [(r.reported_on - r.received_on).days for r in AdrReport.objects.only("reported_on", "received_on")]
    assert min(lags) >= 0 and max(lags) > 20  # some reported late
    assert AdrDrug.objects.filter(role="concomitant").exists()
