"""Inspection pages 监督检查: scoped, audited; defects added and edited from the inspection page."""

from yaojian.core.tests.viewtools import check_pages, check_round_trip, client_for, form_data
from yaojian.inspections.models import Defect


def test_pages_are_scoped(world):
    check_pages(world, "inspections.inspection", "/inspections/")


def test_add_edit_delete_are_audited(world):
    source = world.records[("gulou", "inspections.inspection")]
    check_round_trip(
        world.users["district"],
        source,
        add_url="/inspections/add/",
        unique={"number": "JC-new-1"},
        change={"summary": "复查"},
    )


def test_defects_from_the_inspection_page(world):
    inspection = world.records[("gulou", "inspections.inspection")]
    defect = world.records[("gulou", "inspections.defect")]
    client = client_for(world.users["inspector"])
    page = client.get(inspection.get_absolute_url()).content.decode()
    assert defect.description in page and "新增缺陷" in page
    check_round_trip(
        world.users["inspector"],
        defect,
        add_url=f"/inspections/inspection/{inspection.pk}/defects/add/",
        unique={"code": "GMP-0202"},
        change={"grade": "minor"},
        exclude=("inspection",),
    )
    assert Defect.objects.filter(inspection=inspection).count() == 1


def test_defect_of_another_district_is_not_found(world):
    other = world.records[("liangxi", "inspections.inspection")]
    client = client_for(world.users["district"])
    assert client.get(f"/inspections/inspection/{other.pk}/defects/add/").status_code == 404
    defect = world.records[("liangxi", "inspections.defect")]
    assert client.post(f"/inspections/defects/{defect.pk}/edit/", form_data(defect)).status_code == 404


def test_enterprise_user_reads_but_may_not_write(world):
    client = client_for(world.users["enterprise"])
    inspection = world.records[("gulou", "inspections.inspection")]
    page = client.get(inspection.get_absolute_url()).content.decode()
    assert "编辑" not in page and "新增缺陷" not in page
    assert client.get("/inspections/add/").status_code == 403
    assert client.post(inspection.get_absolute_url() + "delete/").status_code == 403


def test_filter_by_an_enterprise_out_of_scope_matches_nothing(world):
    client = client_for(world.users["district"])
    own, other = world.enterprises["gulou"], world.enterprises["liangxi"]
    page = client.get("/inspections/", {"enterprise": own.pk}).content.decode()
    assert "JC-gulou-1" in page
    page = client.get("/inspections/", {"enterprise": other.pk}).content.decode()
    assert "JC-gulou-1" not in page and "暂无数据" in page
    assert other.name not in page  # the query bar lists no enterprise names from elsewhere
