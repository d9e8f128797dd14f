"""Penalty API 行政处罚接口: CRUD with audit, decimal amounts, filters."""

from yaojian.core.tests.apitools import check_crud, token_client
from yaojian.enforcement.models import Penalty


def test_crud_as_district_regulator(world):
    payload = {
        "decision_number": "宁鼓市监罚〔2025〕99号",
        "enterprise": world.enterprises["gulou"].pk,
        "decided_on": "2025-08-01",
        "violation": "销售劣药",
        "kind": "fine",
        "fine_amount": "50000.00",
    }
    check_crud(world.users["district"], Penalty, "penalties", payload, {"is_published": False})


def test_filter_and_scope(world):
    client = token_client(world.users["district"])
    listing = client.get("/api/penalties/", {"kind": "fine"}).json()
    assert [item["id"] for item in listing["items"]] == [world.records[("gulou", "enforcement.penalty")].pk]
    assert listing["items"][0]["fine_amount"] == "20000.00"
    assert client.get("/api/penalties/", {"kind": "warning"}).json()["count"] == 0
