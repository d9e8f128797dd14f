"""Sampling API 抽检接口: CRUD with audit, result filter."""

from yaojian.core.tests.apitools import check_crud, token_client
from yaojian.sampling.models import SamplingTest


def test_crud_as_district_regulator(world):
    payload = {
        "number": "CJ-2025-0099",
        "enterprise": world.enterprises["gulou"].pk,
        "product": world.products["gulou"].pk,
        "sampled_on": "2025-08-01",
    }
    created = check_crud(world.users["district"], SamplingTest, "sampling-tests", payload, {"result": "fail"})
    assert (created["result"], created["result_display"]) == ("pending", "检验中")


def test_filter_by_result(world):
    client = token_client(world.users["city"])
    assert client.get("/api/sampling-tests/", {"result": "pass"}).json()["count"] == 2
    assert client.get("/api/sampling-tests/", {"result": "fail"}).json()["count"] == 0
