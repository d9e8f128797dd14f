"""Pushes to partner departments 部门推送: priority lists, signed webhooks with retries.

Each push or revocation creates one WebhookDelivery per department with a webhook URL.
Its idempotency key is derived from (department, enterprise, tag, event, date), so the
same event is never queued twice and a receiver can drop repeats. Messages are signed:
``X-Yaojian-Signature: sha256=HMAC-SHA256(secret, timestamp + "." + body)``. Failed
sends are retried with exponential backoff up to ``MAX_ATTEMPTS``.
"""

import datetime
import hashlib
import hmac
import json
import urllib.error
import urllib.request

from django.db import transaction
from django.utils import timezone

from yaojian.core.choices import PartnerDepartment

from .models import DeliveryStatus, Department, Push, WebhookDelivery

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min, 8 min between attempts
TIMEOUT_SECONDS = 10


def ensure_default_departments() -> None:
    for code, name in PartnerDepartment.choices:
        Department.objects.get_or_create(code=code, defaults={"name": name})


def _key(*parts) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _queue(department: Department, event: str, payload: dict, key: str) -> None:
    if department.webhook_url:
        WebhookDelivery.objects.get_or_create(
            idempotency_key=key,
            defaults={"department": department, "event": event, "payload": payload, "next_attempt_at": timezone.now()},
        )


def push_tag(enterprise_id: int, tag: str, department_codes: list[str], as_of: datetime.date) -> None:
    """Put an enterprise on the named departments' lists (called inside the rule transaction)."""
    from yaojian.registry.models import Enterprise

    ensure_default_departments()
    enterprise = Enterprise.objects.get(pk=enterprise_id)
    for department in Department.objects.filter(code__in=department_codes, is_active=True):
        Push.objects.create(
            department=department,
            enterprise=enterprise,
            division_code=enterprise.division_code,
            tag=tag,
            pushed_on=as_of,
        )
        payload = {
            "event": "tag.added",
            "tag": tag,
            "date": as_of.isoformat(),
            "enterprise": {
                "name": enterprise.name,
                "credit_code": enterprise.credit_code,
                "division": enterprise.division_code,
            },
        }
        _queue(department, "tag.added", payload, _key(department.code, enterprise.credit_code, tag, "added", as_of))


def revoke_tag(enterprise_id: int, tag: str, as_of: datetime.date) -> None:
    pushes = Push.objects.filter(enterprise_id=enterprise_id, tag=tag, revoked_on__isnull=True).select_related(
        "department", "enterprise"
    )
    for push in pushes:
        payload = {
            "event": "tag.removed",
            "tag": tag,
            "date": as_of.isoformat(),
            "enterprise": {"name": push.enterprise.name, "credit_code": push.enterprise.credit_code},
        }
        _queue(
            push.department,
            "tag.removed",
            payload,
            _key(push.department.code, push.enterprise.credit_code, tag, "removed", as_of),
        )
    pushes.update(revoked_on=as_of)


@transaction.atomic
def acknowledge(push: Push, *, actor) -> Push:
    if push.acknowledged_at is None:
        push.acknowledged_at, push.acknowledged_by = timezone.now(), actor
        push.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return push


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def send(delivery: WebhookDelivery, now=None) -> bool:
    """One attempt; records the outcome and schedules the next attempt on failure."""
    now = now or timezone.now()
    body = json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(now.timestamp()))
    request = urllib.request.Request(
        delivery.department.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Yaojian-Event": delivery.event,
            "X-Yaojian-Delivery": delivery.idempotency_key,
            "X-Yaojian-Timestamp": timestamp,
            "X-Yaojian-Signature": sign(delivery.department.webhook_secret, timestamp, body),
        },
    )
    delivery.attempts += 1
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            delivery.response_status = response.status
        delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.DELIVERED, now, ""
    except urllib.error.HTTPError as exc:
        delivery.response_status, delivery.last_error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        delivery.last_error = str(getattr(exc, "reason", exc))[:500]
    if delivery.status != DeliveryStatus.DELIVERED:
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.next_attempt_at = now + datetime.timedelta(seconds=BACKOFF_SECONDS * 2 ** (delivery.attempts - 1))
    delivery.save()
    return delivery.status == DeliveryStatus.DELIVERED


def deliver_due(now=None) -> tuple[int, int]:
    """Send every pending delivery whose time has come; returns (delivered, still pending or failed)."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).select_related(
        "department"
    )
    delivered = failed = 0
    for delivery in due:
        if send(delivery, now):
            delivered += 1
        else:
            failed += 1
    return delivered, failed
