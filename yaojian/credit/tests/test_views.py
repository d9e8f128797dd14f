"""Pages 页面 of credit.creditrating: scoped list and detail, audited add/edit/delete."""

from yaojian.core.tests.viewtools import check_pages, check_round_trip


def test_pages_are_scoped(world):
    check_pages(world, "credit.creditrating", "/credit/")


def test_add_edit_delete_are_audited(world):
    source = world.records[("gulou", "credit.creditrating")]
    check_round_trip(
        world.users["district"],
        source,
        add_url="/credit/add/",
        unique={"rated_on": "2026-01-01"},
        change={"basis": "年度评定"},
    )
