"""ADR API 不良反应接口: CRUD with audit; the analyst may write, the inspector may not read."""

import pytest

from yaojian.adr.models import AdrReport
from yaojian.core.tests.apitools import check_crud, token_client


@pytest.mark.parametrize("user", ["district", "adr_analyst"])
def test_crud(world, user):
    payload = {
        "report_number": "ADR-2025-0099",
        "enterprise": world.enterprises["gulou"].pk,
        "product": world.products["gulou"].pk,
        "reported_on": "2025-08-01",
        "reaction": "过敏性休克",
        "seriousness": "serious",
    }
    check_crud(world.users[user], AdrReport, "adr-reports", payload, {"outcome": "recovered"})


@pytest.mark.parametrize("user", ["inspector", "enterprise", "partner", "auditor"])
def test_other_roles_are_refused(world, user):
    client = token_client(world.users[user])
    assert client.get("/api/adr-reports/").status_code == 403
    assert client.get(f"/api/adr-reports/{world.records[('gulou', 'adr.adrreport')].pk}/").status_code == 403


def test_case_is_read_with_drugs_and_reactions(world):
    from yaojian.adr import services

    user = world.users["adr_analyst"]
    report = services.save_case(
        actor=user,
        fields={"report_number": "ADR-API-1", "reported_on": "2025-06-01", "enterprise": world.enterprises["gulou"]},
        drugs=[{"name": "阿莫西林胶囊", "role": "suspect"}, {"name": "维生素C片", "role": "concomitant"}],
        reactions=[{"reported_term": "皮疹", "life_threatening": True}],
    )
    response = token_client(user).get(f"/api/adr-reports/{report.pk}/case/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["report"]["report_number"] == "ADR-API-1" and body["report"]["seriousness"] == "serious"
    assert [d["name"] for d in body["drugs"]] == ["阿莫西林胶囊", "维生素C片"]
    assert body["reactions"][0]["reported_term"] == "皮疹" and body["reactions"][0]["life_threatening"] is True
    other = world.records[("liangxi", "adr.adrreport")]
    assert token_client(user).get(f"/api/adr-reports/{other.pk}/case/").status_code == 404
