"""Pushes to partner departments: signed webhooks against a real local HTTP receiver."""

import datetime
import hashlib
import hmac
import http.server
import json
import threading

import pytest
from django.utils import timezone

from yaojian.core import access
from yaojian.risk import actions, pushes
from yaojian.risk.models import DeliveryStatus, Department, Push, WebhookDelivery
from yaojian.risk.tests.test_rules import AS_OF, model_citizen  # noqa: F401 — fixture

SECRET = "shared-secret-卫健"


class Receiver(http.server.BaseHTTPRequestHandler):
    """A department's endpoint: verifies the signature, drops repeats by idempotency key."""

    fail_next = 0
    seen: dict = {}
    bad_signatures = 0

    def do_POST(self):  # noqa: N802 — http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = (
            "sha256="
            + hmac.new(
                SECRET.encode(), self.headers["X-Yaojian-Timestamp"].encode() + b"." + body, hashlib.sha256
            ).hexdigest()
        )
        if not hmac.compare_digest(expected, self.headers["X-Yaojian-Signature"]):
            type(self).bad_signatures += 1
            self.send_response(401)
        elif type(self).fail_next > 0:
            type(self).fail_next -= 1
            self.send_response(503)
        else:
            key = self.headers["X-Yaojian-Delivery"]
            type(self).seen[key] = type(self).seen.get(key, 0) + 1
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.fail_next, Receiver.seen, Receiver.bad_signatures = 0, {}, 0
    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def configure(url, secret=SECRET):
    pushes.ensure_default_departments()
    Department.objects.filter(code="health").update(webhook_url=url, webhook_secret=secret)


def test_push_is_signed_and_delivered(model_citizen, receiver):  # noqa: F811
    configure(receiver)
    actions.apply_rules(as_of=AS_OF)
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "tag.added" and delivery.payload["enterprise"]["credit_code"] == model_citizen.credit_code
    assert pushes.deliver_due() == (1, 0)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.response_status == 200
    assert Receiver.seen == {delivery.idempotency_key: 1} and Receiver.bad_signatures == 0


def test_retry_with_backoff_then_delivered(model_citizen, receiver):  # noqa: F811
    configure(receiver)
    actions.apply_rules(as_of=AS_OF)
    Receiver.fail_next = 2
    now = timezone.now()
    assert pushes.deliver_due(now) == (0, 1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.last_error == "HTTP 503"
    assert delivery.next_attempt_at == now + datetime.timedelta(seconds=30)
    assert pushes.deliver_due(now + datetime.timedelta(seconds=10)) == (0, 0)  # not yet due
    later = now + datetime.timedelta(seconds=30)
    assert pushes.deliver_due(later) == (0, 1)
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == later + datetime.timedelta(seconds=60)  # doubled
    assert pushes.deliver_due(later + datetime.timedelta(seconds=60)) == (1, 0)
    delivery.refresh_from_db()
    assert delivery.attempts == 3 and delivery.status == DeliveryStatus.DELIVERED


def test_gives_up_after_max_attempts(model_citizen, receiver):  # noqa: F811
    configure(receiver, secret="wrong-secret")  # the receiver rejects every signature
    actions.apply_rules(as_of=AS_OF)
    now = timezone.now()
    for _ in range(pushes.MAX_ATTEMPTS):
        pushes.deliver_due(now)
        now += datetime.timedelta(hours=1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == pushes.MAX_ATTEMPTS
    assert Receiver.bad_signatures == pushes.MAX_ATTEMPTS and Receiver.seen == {}


def test_same_event_is_queued_once(model_citizen, receiver):  # noqa: F811
    configure(receiver)
    actions.apply_rules(as_of=AS_OF)
    health = Department.objects.get(code="health")
    payload = WebhookDelivery.objects.get().payload
    pushes._queue(
        health, "tag.added", payload, pushes._key("health", model_citizen.credit_code, "优先推荐", "added", AS_OF)
    )
    assert WebhookDelivery.objects.count() == 1


def test_unreachable_endpoint_is_retried(model_citizen):  # noqa: F811
    configure("http://127.0.0.1:9/closed")
    actions.apply_rules(as_of=AS_OF)
    assert pushes.deliver_due() == (0, 1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_error


def test_department_sees_only_its_own_list(model_citizen, world):  # noqa: F811
    actions.apply_rules(as_of=AS_OF)
    partner = world.users["partner"]  # 卫健 of Gulou
    visible = access.scoped(Push.objects.all(), partner)
    assert list(visible.values_list("department__code", flat=True).distinct()) == ["health"]
    assert access.scoped(Push.objects.all(), world.users["enterprise"]).count() == 0
    assert access.scoped(Push.objects.all(), world.users["district"]).count() == 4
    assert access.scoped(Push.objects.all(), world.users["inspector"]).count() == 0
    push = visible.get()
    pushes.acknowledge(push, actor=partner)
    push.refresh_from_db()
    assert push.acknowledged_by == partner
    assert Push.objects.filter(acknowledged_at__isnull=False).count() == 1
    payload = json.dumps(WebhookDelivery.objects.values_list("payload", flat=True).first() or {})
    assert "赵六" not in payload  # no personal data travels
