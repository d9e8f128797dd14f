"""Registry API 主体与品种档案接口: CRUD with audit, filters, paging, validation and jurisdiction."""

import pytest

from yaojian.core.identifiers import build_uscc
from yaojian.core.tests.apitools import check_crud, token_client
from yaojian.registry.models import Batch, Enterprise, Licence, Product, Registration

CASES = {
    "enterprises": (
        Enterprise,
        lambda w: {
            "name": "新街口大药房有限公司",
            "credit_code": build_uscc("320106", "80000001"),
            "type": "retail_pharmacy",
            "division": "320106",
            "address": "中山路1号",
            "legal_representative": "李某",
        },
        {"status": "suspended"},
    ),
    "licences": (
        Licence,
        lambda w: {
            "enterprise": w.enterprises["gulou"].pk,
            "type": "drug_retail",
            "number": "苏DA0250001",
            "issued_on": "2025-01-01",
            "valid_until": "2030-01-01",
        },
        {"status": "suspended"},
    ),
    "products": (
        Product,
        lambda w: {
            "category": "drug",
            "name": "布洛芬缓释胶囊",
            "approval_number": "国药准字H20259999",
            "holder": w.enterprises["gulou"].pk,
        },
        {"is_paediatric": True},
    ),
    "registrations": (
        Registration,
        lambda w: {
            "product": w.products["gulou"].pk,
            "kind": "approval",
            "number": "国药准字H20251234",
            "issued_on": "2025-02-01",
        },
        {"valid_until": "2030-02-01"},
    ),
    "batches": (
        Batch,
        lambda w: {"product": w.products["gulou"].pk, "batch_number": "B9001", "manufactured_on": "2025-07-01"},
        {"quantity": 1200},
    ),
}


@pytest.mark.parametrize("path", CASES)
def test_crud_as_district_regulator(world, path):
    model, payload, change = CASES[path]
    check_crud(world.users["district"], model, path, payload(world), change)


def test_filters_and_paging(world):
    client = token_client(world.users["province"])
    everything = client.get("/api/enterprises/").json()
    assert everything["count"] == 3
    first, second = (client.get("/api/enterprises/", {"limit": 1, "offset": n}).json() for n in (0, 1))
    assert first["count"] == second["count"] == 3 and first["limit"] == 1
    assert [first["items"][0]["id"], second["items"][0]["id"]] == [item["id"] for item in everything["items"][:2]]

    in_wuxi = client.get("/api/enterprises/", {"division": "320200"}).json()
    assert [item["id"] for item in in_wuxi["items"]] == [world.enterprises["liangxi"].pk]
    assert client.get("/api/enterprises/", {"q": "xuanwu"}).json()["count"] == 1
    assert client.get("/api/enterprises/", {"credit_grade": ["B", "C"]}).json()["count"] == 3
    assert client.get("/api/enterprises/", {"credit_grade": "A"}).json()["count"] == 0
    assert client.get("/api/products/", {"holder": world.enterprises["gulou"].pk}).json()["count"] == 1


def test_bad_filter_and_paging_answer_422_in_chinese(world):
    client = token_client(world.users["district"])
    response = client.get("/api/enterprises/", {"type": "spaceship"})
    assert response.status_code == 422
    assert "选择" in response.json()["errors"]["type"][0]
    response = client.get("/api/enterprises/", {"limit": 0})
    assert response.status_code == 422 and response.json()["errors"] == {"limit": ["数值过小"]}


def test_invalid_record_answers_422_with_field_messages(world):
    client = token_client(world.users["district"])
    payload = CASES["enterprises"][1](world) | {"credit_code": "91320106MA1XXXXXXX"}
    response = client.post("/api/enterprises/", payload, content_type="application/json")
    assert response.status_code == 422
    assert "统一社会信用代码无效" in response.json()["errors"]["credit_code"][0]
    response = client.post("/api/enterprises/", {"name": "缺字段"}, content_type="application/json")
    assert response.status_code == 422 and response.json()["errors"]["credit_code"] == ["此字段为必填项"]
    assert Enterprise.objects.count() == 3


def test_writes_stay_inside_the_jurisdiction(world):
    client = token_client(world.users["district"])
    outside = CASES["enterprises"][1](world) | {"division": "320213", "credit_code": build_uscc("320213", "80000002")}
    response = client.post("/api/enterprises/", outside, content_type="application/json")
    assert response.status_code == 422 and "辖区" in response.json()["errors"]["division"][0]
    product = CASES["products"][1](world) | {"holder": world.enterprises["liangxi"].pk}
    assert client.post("/api/products/", product, content_type="application/json").status_code == 422
    liangxi = world.enterprises["liangxi"]
    moved = client.patch(
        f"/api/enterprises/{world.enterprises['gulou'].pk}/", {"division": "320213"}, content_type="application/json"
    )
    assert moved.status_code == 422
    assert client.patch(f"/api/enterprises/{liangxi.pk}/", {}, content_type="application/json").status_code == 404
    assert client.delete(f"/api/enterprises/{liangxi.pk}/").status_code == 404
    assert Enterprise.objects.filter(division_id="320106").count() == 1 and Enterprise.objects.count() == 3


def test_delete_of_a_referenced_record_answers_409(world):
    client = token_client(world.users["district"])
    response = client.delete(f"/api/enterprises/{world.enterprises['gulou'].pk}/")
    assert response.status_code == 409 and response.json()["detail"] == "存在关联记录，不能删除"


def test_filter_by_a_record_outside_the_scope_answers_like_a_missing_one(world):
    client = token_client(world.users["district"])
    outside = client.get("/api/licences/", {"enterprise": world.enterprises["liangxi"].pk})
    missing = client.get("/api/licences/", {"enterprise": 999999})
    assert outside.status_code == missing.status_code == 422
    assert outside.json() == missing.json()
    assert client.get("/api/licences/", {"enterprise": world.enterprises["gulou"].pk}).json()["count"] == 1
