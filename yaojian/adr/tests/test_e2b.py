"""E2B(R3) 电子传输: every FDA example imports, export round-trips, the ACK answers, hostile XML is refused."""

import datetime
import pathlib
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from yaojian.adr import e2b, services
from yaojian.adr.models import AdrDrug, AdrReaction, AdrReport, ReactionTerm
from yaojian.core.models import AuditRecord

EXAMPLES = pathlib.Path(__file__).resolve().parents[4] / "shared" / "data" / "e2b-examples"
N = "{urn:hl7-org:v3}"

# file → (report number, drugs, suspect drugs, reactions); reactions nested in drug history (D.10.8) are not counted
EXPECTED = {
    "FAERS2022Scenario1.xml": ("US-APHARMA-8744554B", 3, 2, 2),
    "FAERS2022Scenario2.xml": ("US-APHARMA-8744554B-UPDATE-TESTING222", 3, None, 2),
    "FAERS2022Scenario3.xml": ("US-APHARMA-8744554B", 3, None, 2),
    "FAERS2022Scenario4.xml": ("US-APHARMA-222222222", 1, None, 2),
    "FAERS2022Scenario5-1.xml": ("US-APHARMA-234545656", 3, None, 2),
    "FAERS2022Scenario5-2.xml": ("US-APHARMA-234545656", 3, None, 2),
    "FAERS2022Scenario5-3.xml": ("US-APHARMA-234545656", 3, None, 2),
    "FAERS2022Scenario6.xml": ("US-APHARMA-8744554B", 2, None, 2),
    "FAERS2022Scenario7.xml": ("US-APHARMA-8744554B-UPDATET-TESTING", 2, None, 1),
    "FAERS2022Scenario8.xml": ("US-APHARMA-8744554B", 3, None, 2),
}


def _import(data: bytes, user=None):
    return e2b.import_batch(data, actor=user, division_code="320106")


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.xml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fda_example_imports_with_drugs_reactions_narrative(world, name):
    number, n_drugs, n_suspect, n_reactions = EXPECTED[name]
    result = _import((EXAMPLES / name).read_bytes(), world.users["district"])
    assert result.code == "AA", result.text
    assert [r.code for r in result.icsrs] == ["CA"]
    report = AdrReport.objects.get(report_number=number)
    assert report.drugs.count() == n_drugs
    assert report.reactions.count() == n_reactions
    assert report.description.startswith("Case Narrative")
    assert report.division_code == "320106"
    assert report.reaction == report.reactions.first().reported_term
    if n_suspect is not None:
        assert report.drugs.filter(role="suspect").count() == n_suspect


def test_scenario1_details(world):
    _import((EXAMPLES / "FAERS2022Scenario1.xml").read_bytes())
    report = AdrReport.objects.get(report_number="US-APHARMA-8744554B")
    assert report.worldwide_case_id == "US-APHARMA-8744554B"
    assert report.reported_on == datetime.date(2014, 7, 14)
    assert report.received_on == datetime.date(2022, 6, 14)
    assert (report.patient_initials, report.patient_sex, report.patient_age) == ("JD", "M", 48)
    assert report.patient_age_group == "adult"
    assert report.reporter_qualification == "physician"
    assert report.report_type == "spontaneous"
    first, second = report.reactions.order_by("position")
    assert first.reported_term == "THROMBOSE VEINEUSE PROFONDE"
    assert first.disabling and first.other_medically_important and not first.results_in_death
    assert first.outcome == "not_recovered" and second.outcome == "recovered"
    assert report.seriousness == "serious"
    drugs = list(report.drugs.order_by("position"))
    assert [d.role for d in drugs] == ["suspect", "suspect", "concomitant"]
    assert drugs[0].name == "Drug A" and drugs[0].approval_number == "NDA012345"
    assert drugs[0].manufacturer_name == "Big Pharma A Drug" and drugs[0].route == "Oral"
    assert drugs[0].indication == "Embolism venous"


def test_scenario6_dosage_and_native_term(world):
    _import((EXAMPLES / "FAERS2022Scenario6.xml").read_bytes())
    report = AdrReport.objects.get(report_number="US-APHARMA-8744554B")
    drug = report.drugs.order_by("position").first()
    assert drug.batch_number == "4577BN2"
    assert drug.start_on == datetime.date(2009, 1, 1)
    assert drug.action_taken == "reduced"
    assert report.reactions.first().reported_term == "consciência alterada"
    assert report.patient_weight_kg == Decimal("48.2")


def test_meddra_code_codes_the_reaction_only_when_the_term_exists(world):
    term = ReactionTerm.objects.create(dictionary="meddra", code="10027940", name="精神状态改变")
    _import((EXAMPLES / "FAERS2022Scenario1.xml").read_bytes())
    first, second = AdrReaction.objects.filter(report__report_number="US-APHARMA-8744554B").order_by("position")
    assert first.coded_term == term and second.coded_term is None


def test_batch_is_audited_with_the_file_hash(world):
    import hashlib

    data = (EXAMPLES / "FAERS2022Scenario1.xml").read_bytes()
    _import(data, world.users["district"])
    record = AuditRecord.objects.get(action="import", object_type="adr.adrreport")
    assert record.actor == world.users["district"]
    assert record.after["sha256"] == hashlib.sha256(data).hexdigest()
    assert record.after["icsrs"] == [["US-APHARMA-8744554B", "CA", "已导入"]]


def test_reimport_does_not_duplicate(world):
    data = (EXAMPLES / "FAERS2022Scenario1.xml").read_bytes()
    _import(data)
    second = _import(data)
    assert second.code == "AA" and second.icsrs[0].text == "已更新"
    assert AdrReport.objects.filter(report_number="US-APHARMA-8744554B").count() == 1
    assert AdrDrug.objects.filter(report__report_number="US-APHARMA-8744554B").count() == 3


def _case(world, user, **overrides):
    term = ReactionTerm.objects.create(dictionary="test", code="T-0001", name="皮疹")
    product, batch = world.products["gulou"], world.records[("gulou", "registry.batch")]
    fields = {
        "report_number": "ADR-RT-1",
        "worldwide_case_id": "CN-NMPA-RT-1",
        "report_type": "spontaneous",
        "source": "sentinel",
        "reporting_enterprise": world.enterprises["gulou"],
        "reporter_unit": "鼓楼大药房",
        "reporter_qualification": "pharmacist",
        "sold_on": datetime.date(2025, 5, 20),
        "received_on": datetime.date(2025, 5, 25),
        "latest_received_on": datetime.date(2025, 5, 26),
        "reported_on": datetime.date(2025, 5, 28),
        "onset_on": datetime.date(2025, 5, 21),
        "is_new": True,
        "patient_initials": "ZS",
        "patient_sex": "F",
        "patient_age": 34,
        "patient_age_group": "adult",
        "patient_weight_kg": "55.50",
        "outcome": "improved",
        "causality": "probable",
        "description": "服药后出现皮疹，停药后好转。",
        **overrides,
    }
    drugs = [
        {
            "role": "suspect",
            "name": product.name,
            "approval_number": product.approval_number,
            "batch_number": batch.batch_number,
            "manufacturer_name": "鼓楼测试药业",
            "dose_value": "0.5",
            "dose_unit": "g",
            "dose_text": "一日三次",
            "route": "口服",
            "indication": "上呼吸道感染",
            "start_on": datetime.date(2025, 5, 19),
            "stop_on": datetime.date(2025, 5, 22),
            "action_taken": "withdrawn",
            "causality": "probable",
        },
        {"role": "concomitant", "name": "维生素C片", "causality": "unlikely"},
    ]
    reactions = [
        {"reported_term": "皮疹", "coded_term": term, "onset_on": datetime.date(2025, 5, 21), "outcome": "improved"},
        {
            "reported_term": "呼吸困难",
            "hospitalisation": True,
            "outcome": "recovered",
            "end_on": datetime.date(2025, 5, 23),
        },
    ]
    return services.save_case(actor=user, fields=fields, drugs=drugs, reactions=reactions)


def _state(report: AdrReport) -> dict:
    report.refresh_from_db()
    skip = {"id", "patient_name", "patient_contact", "created_at", "updated_at"}
    fields = {k: v for k, v in model_to_dict(report).items() if k not in skip}
    drugs = [{k: v for k, v in model_to_dict(d).items() if k not in ("id", "report")} for d in report.drugs.all()]
    reactions = [
        {k: v for k, v in model_to_dict(r).items() if k not in ("id", "report")} for r in report.reactions.all()
    ]
    return {"fields": fields, "drugs": drugs, "reactions": reactions}


def test_export_then_import_gives_the_same_case(world):
    user = world.users["district"]
    report = _case(world, user, patient_name="张三", patient_contact="13800138000")
    before = _state(report)
    assert before["fields"]["product"] == world.products["gulou"].pk  # matched by approval number
    assert before["fields"]["enterprise"] == world.enterprises["gulou"].pk  # the product's holder
    data = e2b.export_batch([report])
    assert "张三".encode() not in data and b"13800138000" not in data  # personal data stays home
    AdrReport.objects.filter(pk=report.pk).delete()
    result = _import(data, user)
    assert result.code == "AA", result.text
    after = _state(AdrReport.objects.get(report_number="ADR-RT-1"))
    assert after == before


def test_export_of_an_imported_example_round_trips(world):
    _import((EXAMPLES / "FAERS2022Scenario6.xml").read_bytes())
    report = AdrReport.objects.get(report_number="US-APHARMA-8744554B")
    before = _state(report)
    data = e2b.export_batch([report])
    AdrReport.objects.all().filter(pk=report.pk).delete()
    assert _import(data).code == "AA"
    assert _state(AdrReport.objects.get(report_number="US-APHARMA-8744554B")) == before


def test_nullification_marks_the_case(world):
    report = _case(world, None)
    report.is_nullified = True
    data = e2b.export_batch([report])
    report.is_nullified = False
    result = _import(data)
    assert result.code == "AA" and result.icsrs[0].text == "已作废"
    assert AdrReport.objects.get(pk=report.pk).is_nullified


def test_older_version_is_refused_with_ae(world):
    report = _case(world, None)
    data = e2b.export_batch([report]).replace(
        b'availabilityTime value="20250526"', b'availabilityTime value="20250501"'
    )
    result = _import(data)
    assert result.code == "AE" and result.icsrs[0].code == "CR"
    ack = ET.fromstring(result.ack_xml)
    assert ack.find(f"{N}acknowledgement").get("typeCode") == "AE"


def test_ack_names_batch_and_each_icsr(world):
    result = _import((EXAMPLES / "FAERS2022Scenario1.xml").read_bytes())
    ack = ET.fromstring(result.ack_xml)
    assert ack.tag == f"{N}MCCI_IN200101UV01"
    batch_ack = ack.find(f"{N}acknowledgement")
    assert batch_ack.get("typeCode") == "AA"
    target = batch_ack.find(f"{N}targetBatch/{N}id").get("extension")
    assert target == "FAERS2022Scenario1-4069-a2dd-08002b30309d"
    messages = ack.findall(f"{N}MCCI_IN000002UV01")
    assert len(messages) == 1
    assert messages[0].find(f"{N}acknowledgement").get("typeCode") == "CA"
    ident = messages[0].find(f"{N}acknowledgement/{N}targetMessage/{N}id").get("extension")
    assert ident == "21ec1492-3aea-4069-a2ab-08002b30309d US-APHARMA-8744554B"
    assert ack.find(f"{N}receiver/{N}device/{N}id").get("extension") == "4567AB89012"


# --- hostile and malformed input: a precise message, nothing written ---------------------------

MINIMAL = (EXAMPLES / "FAERS2022Scenario4.xml").read_bytes()


def _refused(data: bytes, location_part: str, reason_part: str):
    reports, audits = AdrReport.objects.count(), AuditRecord.objects.count()
    result = _import(data)
    assert result.code == "AR", result.text
    assert location_part in result.error.location, result.error
    assert reason_part in result.error.reason, result.error
    assert AdrReport.objects.count() == reports and AuditRecord.objects.count() == audits
    ack = ET.fromstring(result.ack_xml)
    assert ack.find(f"{N}acknowledgement").get("typeCode") == "AR"
    return result


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<MCCI_IN200100UV01 xmlns="urn:hl7-org:v3"><id extension="&xxe;"/></MCCI_IN200100UV01>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<MCCI_IN200100UV01 xmlns="urn:hl7-org:v3"><id extension="&lol3;"/></MCCI_IN200100UV01>"""


def test_external_entity_is_refused(db):
    _refused(XXE, "/", "DTD")


def test_billion_laughs_is_refused(db):
    _refused(LAUGHS, "/", "DTD")


def test_too_deep_is_refused(db):
    data = b'<MCCI_IN200100UV01 xmlns="urn:hl7-org:v3">' + b"<a>" * 100 + b"</a>" * 100 + b"</MCCI_IN200100UV01>"
    _refused(data, "/MCCI_IN200100UV01/a/a/a", "嵌套层级")


def test_oversized_is_refused(db, monkeypatch):
    monkeypatch.setattr(e2b, "MAX_BYTES", len(MINIMAL) - 1)
    _refused(MINIMAL, "/", "文件过大")


def test_wrong_root_is_refused(db):
    _refused((EXAMPLES / "R3ack-positive.ack").read_bytes(), "/MCCI_IN200101UV01", "根元素")


def test_malformed_xml_names_the_open_element(db):
    data = MINIMAL.replace(b"</controlActProcess>", b"</controlActProces>")
    _refused(data, "/MCCI_IN200100UV01/PORR_IN049016UV/controlActProcess", "XML格式错误")


def test_missing_drug_name_names_the_element(db):
    data = MINIMAL.replace(b"<name>AA-001</name>", b"", 1)
    assert data != MINIMAL
    result = _refused(data, "/kindOfProduct/name", "G.k.2.2")
    assert result.error.location.startswith("/MCCI_IN200100UV01/PORR_IN049016UV/controlActProcess/subject/")


def test_missing_report_number_names_the_element(db):
    data = MINIMAL.replace(b'root="2.16.840.1.113883.3.989.2.1.3.1"/>', b'root="9.9"/>')
    _refused(data, "investigationEvent/id", "C.1.1")


def test_one_bad_icsr_rejects_the_whole_batch(world):
    good = (EXAMPLES / "FAERS2022Scenario1.xml").read_bytes()
    start = good.index(b"<PORR_IN049016UV>")
    end = good.index(b"</PORR_IN049016UV>") + len(b"</PORR_IN049016UV>")
    message = good[start:end]
    broken = message.replace(b"US-APHARMA-8744554B", b"OTHER-1").replace(b"<name>Drug C</name>", b"")
    data = good[:end] + broken + good[end:]
    _refused(data, "PORR_IN049016UV[2]", "G.k.2.2")


def test_a_case_outside_the_jurisdiction_rejects_the_batch(world):
    data = (EXAMPLES / "FAERS2022Scenario1.xml").read_bytes()
    _import(data)  # filed in Gulou by the system
    AdrReport.objects.filter(report_number="US-APHARMA-8744554B").update(division_code="320213")  # now in Liangxi
    audits = AuditRecord.objects.count()
    result = _import(data, world.users["district"])
    assert result.code == "AR" and [r.code for r in result.icsrs] == ["CR"]
    assert "超出辖区范围" in result.text
    assert AuditRecord.objects.count() == audits
    assert AdrReport.objects.get(report_number="US-APHARMA-8744554B").division_code == "320213"
