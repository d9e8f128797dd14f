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
