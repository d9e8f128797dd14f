"""Complaint pages 投诉举报: scoped, audited, and the complainant never shown in clear (脱敏)."""

import pytest

from yaojian.core.tests.viewtools import check_pages, check_round_trip, client_for


def test_pages_are_scoped(world):
    check_pages(world, "complaints.complaint", "/complaints/")


def test_add_edit_delete_are_audited(world):
    source = world.records[("gulou", "complaints.complaint")]
    check_round_trip(
        world.users["district"],
        source,
        add_url="/complaints/add/",
        unique={"number": "TS-new-1"},
        change={"status": "closed"},
    )


@pytest.mark.parametrize("suffix", ["", "edit/"])
def test_complainant_is_masked(world, suffix):
    complaint = world.records[("gulou", "complaints.complaint")]
    client = client_for(world.users["district"])
    for url in (
        "/complaints/",
        complaint.get_absolute_url() + suffix,
        f"/enterprises/{complaint.enterprise_id}/tab/complaints/",
    ):
        page = client.get(url).content.decode()
        assert "赵六" not in page and "13800138000" not in page
    assert complaint.complainant_phone_masked in client.get(complaint.get_absolute_url()).content.decode()


def test_blank_complainant_box_keeps_the_stored_identity(world):
    from yaojian.core.tests.viewtools import form_data

    complaint = world.records[("gulou", "complaints.complaint")]
    data = form_data(complaint, complainant_name="", complainant_phone="", content="补充核查")
    response = client_for(world.users["district"]).post(complaint.get_absolute_url() + "edit/", data)
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.complainant_name, complaint.complainant_phone, complaint.content) == (
        "赵六",
        "13800138000",
        "补充核查",
    )


def test_export_masks_the_complainant(world):
    body = client_for(world.users["district"]).get("/complaints/", {"export": "csv"}).content.decode("utf-8-sig")
    assert "赵六" not in body and "13800138000" not in body
