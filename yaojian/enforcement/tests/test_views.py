"""Pages 页面 of enforcement.penalty: scoped list and detail, audited add/edit/delete."""

from yaojian.core.tests.viewtools import check_pages, check_round_trip


def test_pages_are_scoped(world):
    check_pages(world, "enforcement.penalty", "/penalties/")


def test_add_edit_delete_are_audited(world):
    source = world.records[("gulou", "enforcement.penalty")]
    check_round_trip(
        world.users["district"],
        source,
        add_url="/penalties/add/",
        unique={"decision_number": "宁市监罚〔2026〕99号"},
        change={"legal_basis": "《药品管理法》第一百二十六条"},
    )


def test_public_notice_shows_published_penalties_only(world, client):
    from yaojian.enforcement.models import Penalty

    hidden = world.records[("xuanwu", "enforcement.penalty")]
    Penalty.objects.filter(pk=hidden.pk).update(is_published=False)
    response = client.get("/public/penalties/")  # anonymous
    assert response.status_code == 200
    page = response.content.decode()
    shown = world.records[("gulou", "enforcement.penalty")]
    assert shown.decision_number in page and shown.enterprise.credit_code in page
    assert hidden.decision_number not in page
    assert "/penalties/" + str(shown.pk) not in page  # no links into the internal system
    filtered = client.get("/public/penalties/", {"q": "liangxi"}).content.decode()
    assert world.records[("liangxi", "enforcement.penalty")].decision_number in filtered
    assert shown.decision_number not in filtered
