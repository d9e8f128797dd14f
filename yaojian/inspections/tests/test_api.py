"""Inspections API 监督检查接口: CRUD with audit as a district regulator and as an inspector."""

import pytest

from yaojian.core.tests.apitools import check_crud, token_client
from yaojian.inspections.models import Defect, Inspection

CASES = {
    "inspections": (
        Inspection,
        lambda w: {
            "number": "JC-2025-0099",
            "enterprise": w.enterprises["gulou"].pk,
            "kind": "flying",
            "inspected_on": "2025-09-01",
            "inspectors": "张检、王查",
        },
        {"conclusion": "non_compliant"},
    ),
    "defects": (
        Defect,
        lambda w: {
            "inspection": w.records[("gulou", "inspections.inspection")].pk,
            "code": "GMP-0202",
            "grade": "critical",
            "description": "洁净区压差不符合要求",
        },
        {"rectified_on": "2025-10-01"},
    ),
}


@pytest.mark.parametrize("user", ["district", "inspector"])
@pytest.mark.parametrize("path", CASES)
def test_crud(world, path, user):
    model, payload, change = CASES[path]
    check_crud(world.users[user], model, path, payload(world), change)


def test_filter_by_grade_and_enterprise_users_cannot_write(world):
    client = token_client(world.users["enterprise"])
    listing = client.get("/api/defects/", {"grade": "major"}).json()
    assert [item["id"] for item in listing["items"]] == [world.records[("gulou", "inspections.defect")].pk]
    assert client.get("/api/defects/", {"grade": "critical"}).json()["count"] == 0
    payload = CASES["inspections"][1](world)
    assert client.post("/api/inspections/", payload, content_type="application/json").status_code == 403
    assert not Inspection.objects.filter(number=payload["number"]).exists()
