"""Test support 页面测试工具: a logged-in client and the add → edit → delete round trip through the pages."""

import datetime
from decimal import Decimal

from django.forms.models import model_to_dict
from django.test import Client

from yaojian.core.models import AuditRecord


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(obj, **overrides) -> dict:
    """POST data for the edit form of ``obj``, as a browser would send it."""
    data = {**model_to_dict(obj), **overrides}
    encoded = {}
    for name, value in data.items():
        if value is None or name in ("id", "division_code", "import_batch"):
            continue
        if isinstance(value, bool):
            if value:
                encoded[name] = "on"
        elif isinstance(value, datetime.date | Decimal | int):
            encoded[name] = str(value)
        else:
            encoded[name] = value
    return encoded


def audit_actions(model, pk) -> list[str]:
    records = AuditRecord.objects.filter(object_type=model._meta.label_lower, object_id=str(pk)).order_by("seq")
    return list(records.values_list("action", flat=True))


def check_round_trip(user, source, *, add_url: str, unique: dict, change: dict, exclude=()) -> None:
    """As ``user``: add a copy of ``source`` (with ``unique`` values), edit it, delete it; each step audited."""
    model = type(source)
    client = client_for(user)
    data = {k: v for k, v in form_data(source, **unique).items() if k not in exclude}
    response = client.post(add_url, data)
    assert response.status_code == 302, response.content.decode()
    obj = model.objects.exclude(pk=source.pk).order_by("-pk").first()
    assert audit_actions(model, obj.pk) == ["create"]
    audit = AuditRecord.objects.get(object_type=model._meta.label_lower, object_id=str(obj.pk))
    assert audit.actor == user

    meta = model._meta
    edit_url = f"{meta.app_label}:{meta.model_name}-edit"
    from django.urls import reverse

    edit_data = {k: v for k, v in form_data(obj, **change).items() if k not in exclude}
    response = client.post(reverse(edit_url, args=[obj.pk]), edit_data)
    assert response.status_code == 302, response.content.decode()
    obj.refresh_from_db()
    for name, value in change.items():
        assert str(getattr(obj, name)) == str(value)
    assert audit_actions(model, obj.pk) == ["create", "update"]

    response = client.post(reverse(f"{meta.app_label}:{meta.model_name}-delete", args=[obj.pk]))
    assert response.status_code == 302
    assert not model.objects.filter(pk=obj.pk).exists()
    assert audit_actions(model, obj.pk) == ["create", "update", "delete"]


def check_pages(world, label: str, list_url: str) -> None:
    """List and detail for the district regulator; out of scope → 404; a role without access → 403."""
    district = client_for(world.users["district"])
    own, other = world.records[("gulou", label)], world.records[("liangxi", label)]
    response = district.get(list_url)
    assert response.status_code == 200
    page = response.content.decode()
    assert own.get_absolute_url() in page
    assert other.get_absolute_url() not in page  # another city's record never shows
    assert district.get(own.get_absolute_url()).status_code == 200
    assert district.get(other.get_absolute_url()).status_code == 404
    partner = client_for(world.users["partner"])
    assert partner.get(list_url).status_code == 403
    assert partner.get(own.get_absolute_url()).status_code == 403
    assert Client().get(list_url).status_code == 302  # anonymous → login
