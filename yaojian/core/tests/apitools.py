"""Test support 接口测试工具: token clients and the create → read → update → delete round trip."""

from django.test import Client

from yaojian.core.models import ApiToken, AuditRecord


def token_client(user) -> Client:
    """A client that authenticates with a freshly issued bearer token (no session)."""
    _token, key = ApiToken.issue(user, "测试")
    return Client(headers={"Authorization": f"Bearer {key}"})


def _audit_of(model, pk, action) -> AuditRecord:
    return AuditRecord.objects.get(object_type=model._meta.label_lower, object_id=str(pk), action=action)


def check_crud(user, model, path: str, payload: dict, change: dict) -> dict:
    """Run the full API round trip as ``user`` and check each write left its audit record with the request id.

    Returns the created record as the API showed it.
    """
    client = token_client(user)
    base = f"/api/{path}/"

    response = client.post(base, payload, content_type="application/json", headers={"X-Request-ID": "req-create-01"})
    assert response.status_code == 201, response.content.decode()
    created = response.json()
    pk = created["id"]
    audit = _audit_of(model, pk, "create")
    assert (audit.request_id, audit.actor_id) == ("req-create-01", user.pk)

    detail = client.get(f"{base}{pk}/")
    assert detail.status_code == 200 and detail.json()["id"] == pk

    listing = client.get(base, {"limit": 500})
    assert listing.status_code == 200
    assert pk in [item["id"] for item in listing.json()["items"]]

    response = client.patch(
        f"{base}{pk}/", change, content_type="application/json", headers={"X-Request-ID": "req-update-01"}
    )
    assert response.status_code == 200, response.content.decode()
    for name, value in change.items():
        assert response.json()[name] == value
    audit = _audit_of(model, pk, "update")
    assert audit.request_id == "req-update-01"
    assert {name for name, _before, _after in audit.changed_fields()} >= set(change)

    response = client.delete(f"{base}{pk}/", headers={"X-Request-ID": "req-delete-01"})
    assert response.status_code == 204, response.content.decode()
    assert _audit_of(model, pk, "delete").request_id == "req-delete-01"
    assert not model.objects.filter(pk=pk).exists()
    assert client.get(f"{base}{pk}/").status_code == 404
    return created
