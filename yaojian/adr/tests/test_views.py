"""Pages 页面 of adr.adrreport: scoped list and detail, the case form with drug/reaction rows, E2B upload/export."""

import pathlib

from django.core.files.uploadedfile import SimpleUploadedFile

from yaojian.adr.models import AdrReport
from yaojian.core.tests.viewtools import audit_actions, check_pages, client_for

EXAMPLES = pathlib.Path(__file__).resolve().parents[4] / "shared" / "data" / "e2b-examples"


def test_pages_are_scoped(world):
    check_pages(world, "adr.adrreport", "/adr/")


def test_enterprise_user_may_not_see_adr(world):
    assert client_for(world.users["enterprise"]).get("/adr/").status_code == 403


def _management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _case_data(world, **overrides):
    product = world.products["gulou"]
    return {
        "report_number": "ADR-FORM-1",
        "report_type": "spontaneous",
        "source": "sentinel",
        "reporting_enterprise": world.enterprises["gulou"].pk,
        "reporter_country": "CN",
        "reported_on": "2025-06-10",
        "received_on": "2025-06-08",
        "patient_sex": "F",
        "patient_name": "李四",
        "patient_contact": "13912345678",
        "outcome": "improved",
        "causality": "possible",
        **_management("drugs", 2),
        "drugs-0-role": "suspect",
        "drugs-0-name": product.name,
        "drugs-0-approval_number": product.approval_number,
        "drugs-0-batch_number": "B1001",
        "drugs-1-role": "concomitant",
        "drugs-1-name": "维生素C片",
        **_management("reactions", 2),
        "reactions-0-reported_term": "皮疹",
        "reactions-0-outcome": "improved",
        "reactions-1-reported_term": "呼吸困难",
        "reactions-1-outcome": "recovered",
        "reactions-1-hospitalisation": "on",
        **overrides,
    }


def test_case_form_creates_and_edits_with_children(world):
    client = client_for(world.users["district"])
    assert client.get("/adr/add/").status_code == 200
    response = client.post("/adr/add/", _case_data(world))
    assert response.status_code == 302, response.content.decode()[-3000:]
    report = AdrReport.objects.get(report_number="ADR-FORM-1")
    assert (report.reaction, report.seriousness) == ("皮疹", "serious")
    assert report.product == world.products["gulou"] and report.batch == world.records[("gulou", "registry.batch")]
    assert report.enterprise == world.enterprises["gulou"]
    assert report.drugs.count() == 2 and report.reactions.count() == 2
    assert audit_actions(AdrReport, report.pk) == ["create"]

    page = client.get(report.get_absolute_url()).content.decode()
    assert "呼吸困难" in page and "导致住院或住院时间延长" in page and "维生素C片" in page
    assert "李四" not in page and "13912345678" not in page and "李*" in page
    assert "导出E2B" in page

    drugs, reactions = list(report.drugs.order_by("position")), list(report.reactions.order_by("position"))
    edit = _case_data(
        world,
        **_management("drugs", 2, 2),
        **_management("reactions", 2, 2),
        **{"drugs-0-id": drugs[0].pk, "drugs-1-id": drugs[1].pk, "drugs-1-DELETE": "on"},
        **{"reactions-0-id": reactions[0].pk, "reactions-1-id": reactions[1].pk},
        **{"reactions-0-reported_term": "过敏性休克", "reactions-0-results_in_death": "on"},
    )
    response = client.post(f"/adr/{report.pk}/edit/", edit)
    assert response.status_code == 302, response.content.decode()[-3000:]
    report.refresh_from_db()
    assert (report.reaction, report.seriousness) == ("过敏性休克", "death")
    assert report.drugs.count() == 1
    assert audit_actions(AdrReport, report.pk) == ["create", "update"]


def test_case_form_requires_a_reaction(world):
    client = client_for(world.users["district"])
    data = _case_data(world, **_management("reactions", 1), **{"reactions-0-reported_term": ""})
    data.pop("reactions-1-reported_term")
    response = client.post("/adr/add/", data)
    assert response.status_code == 400
    assert not AdrReport.objects.filter(report_number="ADR-FORM-1").exists()


def test_list_filters_by_source_and_causality(world):
    client = client_for(world.users["district"])
    client.post("/adr/add/", _case_data(world))
    page = client.get("/adr/", {"source": "sentinel", "causality": "possible"}).content.decode()
    assert "ADR-FORM-1" in page and "ADR-gulou-1" not in page


def test_upload_shows_each_icsr_and_the_ack(world):
    client = client_for(world.users["district"])
    assert client.get("/adr/e2b/").status_code == 200
    upload = SimpleUploadedFile("s1.xml", (EXAMPLES / "FAERS2022Scenario1.xml").read_bytes(), "application/xml")
    page = client.post("/adr/e2b/", {"file": upload, "division": ""}).content.decode()
    assert "US-APHARMA-8744554B" in page and "CA" in page and "data:application/xml;base64," in page
    report = AdrReport.objects.get(report_number="US-APHARMA-8744554B")
    response = client.get(f"/adr/{report.pk}/e2b/")
    assert response.status_code == 200 and b"PORR_IN049016UV" in response.content


def test_upload_of_a_hostile_file_names_the_reason(world):
    client = client_for(world.users["district"])
    bomb = b'<!DOCTYPE x [<!ENTITY a "a">]><MCCI_IN200100UV01 xmlns="urn:hl7-org:v3"/>'
    response = client.post("/adr/e2b/", {"file": SimpleUploadedFile("x.xml", bomb), "division": ""})
    assert response.status_code == 400 and "DTD" in response.content.decode()
