"""Pages 页面 of sampling.samplingtest: scoped list and detail, audited add/edit/delete."""

from yaojian.core.tests.viewtools import check_pages, check_round_trip


def test_pages_are_scoped(world):
    check_pages(world, "sampling.samplingtest", "/sampling/")


def test_add_edit_delete_are_audited(world):
    source = world.records[("gulou", "sampling.samplingtest")]
    check_round_trip(
        world.users["district"],
        source,
        add_url="/sampling/add/",
        unique={"number": "CJ-new-1"},
        change={"failed_items": "含量不合格"},
    )
