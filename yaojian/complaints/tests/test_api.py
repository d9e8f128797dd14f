"""Complaints API 投诉举报接口: CRUD with audit; the complainant's identity is only ever returned masked."""

from yaojian.complaints.models import Complaint
from yaojian.core.tests.apitools import check_crud, token_client

NAME, PHONE = "钱小二", "13912345678"


def _payload(world):
    return {
        "number": "TS-2025-0099",
        "enterprise": world.enterprises["gulou"].pk,
        "received_on": "2025-08-01",
        "subject": "药店销售过期药品",
        "complainant_name": NAME,
        "complainant_phone": PHONE,
    }


def test_crud_as_district_regulator_returns_masked_identity(world):
    created = check_crud(world.users["district"], Complaint, "complaints", _payload(world), {"status": "closed"})
    assert (created["complainant_name"], created["complainant_phone"]) == ("钱**", "139****5678")


def test_identity_never_in_clear_in_list_detail_or_audit(world):
    client = token_client(world.users["district"])
    created = client.post("/api/complaints/", _payload(world), content_type="application/json").json()
    client.patch(
        f"/api/complaints/{created['id']}/", {"complainant_phone": "13700001111"}, content_type="application/json"
    )
    responses = [
        client.get("/api/complaints/"),
        client.get(f"/api/complaints/{created['id']}/"),
        client.get(f"/api/audit/objects/complaints.complaint/{created['id']}/"),
        client.get("/api/audit/"),
    ]
    for response in responses:
        assert response.status_code == 200
        body = response.content.decode()
        for secret in (NAME, PHONE, "13700001111", "赵六", "13800138000"):
            assert secret not in body, (response.request["PATH_INFO"], secret)
    audit = responses[2].json()["items"]
    assert {rec["action"] for rec in audit} == {"create", "update"}
    assert audit[0]["after"]["complainant_phone"].startswith("已加密#")  # a fingerprint, never the number


def test_enterprise_users_cannot_read_complaints(world):
    client = token_client(world.users["enterprise"])
    assert client.get("/api/complaints/").status_code == 403
