"""Pages 页面 of adr.adrreport: scoped list and detail, audited add/edit/delete."""

from yaojian.core.tests.viewtools import check_pages, check_round_trip


def test_pages_are_scoped(world):
    check_pages(world, "adr.adrreport", "/adr/")


def test_add_edit_delete_are_audited(world):
    source = world.records[("gulou", "adr.adrreport")]
    check_round_trip(
        world.users["district"],
        source,
        add_url="/adr/add/",
        unique={"report_number": "ADR-new-1"},
        change={"reaction": "头晕"},
    )


def test_enterprise_user_may_not_see_adr(world):
    from yaojian.core.tests.viewtools import client_for

    assert client_for(world.users["enterprise"]).get("/adr/").status_code == 403
