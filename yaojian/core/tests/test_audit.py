"""Audit trail 全程留痕: every write is recorded, and tampering is detected."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from yaojian.core import audit, services
from yaojian.core.models import AuditChainHead, AuditRecord
from yaojian.core.requestid import reset_request_id, set_request_id
from yaojian.credit.models import CreditRating


@pytest.fixture
def audited(world):
    """Three audited changes by the district regulator: create, update, delete."""
    user = world.users["district"]
    ent = world.enterprises["gulou"]
    token = set_request_id("req-test-0001")
    try:
        rating = services.create_record(CreditRating, actor=user, enterprise=ent, grade="A", rated_on="2026-01-05")
        services.update_record(rating, actor=user, grade="C", basis="年度评定")
        services.delete_record(rating, actor=user)
    finally:
        reset_request_id(token)
    return world


def test_writes_are_recorded_with_before_and_after(audited):
    records = list(AuditRecord.objects.order_by("seq"))
    assert [r.action for r in records] == ["create", "update", "delete"]
    create, update, delete = records
    assert create.actor == audited.users["district"] and create.request_id == "req-test-0001"
    assert create.before is None and create.after["grade"] == "A"
    assert create.division_code == "320106" and create.object_type == "credit.creditrating"
    assert ("grade", "A", "C") in update.changed_fields()
    assert delete.before["grade"] == "C" and delete.after is None
    assert [r.seq for r in records] == [1, 2, 3]
    assert update.prev_hash == create.hash and delete.prev_hash == update.hash
    assert audit.verify_chain().ok


def test_update_without_changes_writes_nothing(world):
    rating = world.records[("gulou", "credit.creditrating")]
    services.update_record(rating, actor=world.users["district"], grade=rating.grade)
    assert AuditRecord.objects.count() == 0


def _tamper(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_edited_record_is_detected(audited):
    _tamper("UPDATE core_auditrecord SET actor_name = %s WHERE seq = 2", ["someone-else"])
    result = audit.verify_chain()
    assert not result.ok and result.broken_seq == 2 and "修改" in result.reason


def test_edited_json_values_are_detected(audited):
    record = AuditRecord.objects.get(seq=1)
    AuditRecord.objects.filter(pk=record.pk).update(after={**record.after, "grade": "D"})
    assert audit.verify_chain().broken_seq == 1


def test_deleted_record_is_detected(audited):
    _tamper("DELETE FROM core_auditrecord WHERE seq = 2")
    result = audit.verify_chain()
    assert not result.ok and result.broken_seq == 2


def test_truncated_tail_is_detected(audited):
    _tamper("DELETE FROM core_auditrecord WHERE seq = 3")
    result = audit.verify_chain()
    assert not result.ok and result.broken_seq == 3


def test_rewritten_head_without_key_is_detected(audited):
    _tamper("DELETE FROM core_auditrecord WHERE seq = 3")
    record = AuditRecord.objects.get(seq=2)
    AuditChainHead.objects.filter(pk=1).update(last_seq=2, last_hash=record.hash)
    assert "链头" in audit.verify_chain().reason


@pytest.mark.django_db(transaction=True)
def test_record_is_refused_outside_a_transaction():
    with pytest.raises(RuntimeError):
        audit.record(actor=None, action="create", object_type="x")


def test_verify_command_exit_status(audited, capsys):
    call_command("audit", "verify")
    assert "审计链完好" in capsys.readouterr().out
    _tamper("UPDATE core_auditrecord SET object_repr = 'x' WHERE seq = 1")
    with pytest.raises(CommandError, match="第 1 号记录"):
        call_command("audit", "verify")


def test_out_of_scope_write_is_refused_and_not_recorded(world):
    foreign = world.enterprises["liangxi"]  # Wuxi, outside Gulou
    with pytest.raises(PermissionDenied):
        services.create_record(
            CreditRating, actor=world.users["district"], enterprise=foreign, grade="A", rated_on="2026-01-05"
        )
    with pytest.raises(PermissionDenied):
        services.delete_record(world.records[("liangxi", "credit.creditrating")], actor=world.users["district"])
    with pytest.raises(PermissionDenied):  # an enterprise user reads but never writes
        services.update_record(
            world.records[("gulou", "credit.creditrating")], actor=world.users["enterprise"], grade="A"
        )
    assert AuditRecord.objects.count() == 0


def test_invalid_write_changes_nothing(world):
    with pytest.raises(ValidationError):
        services.create_record(
            CreditRating,
            actor=world.users["district"],
            enterprise=world.enterprises["gulou"],
            grade="Z",
            rated_on="2026-01-05",
        )
    assert AuditRecord.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_failed_transaction_leaves_no_audit_record(world):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        services.update_record(world.records[("gulou", "credit.creditrating")], actor=None, grade="D")
        1 / 0  # noqa: B018 — the change fails after the audit record was written
    assert AuditRecord.objects.count() == 0
    assert CreditRating.objects.get(pk=world.records[("gulou", "credit.creditrating")].pk).grade == "B"


def test_personal_data_never_enters_the_trail_in_clear(world):
    complaint = world.records[("gulou", "complaints.complaint")]
    services.update_record(complaint, actor=world.users["district"], complainant_phone="13912345678")
    record = AuditRecord.objects.get(object_type="complaints.complaint")
    text = str(record.before) + str(record.after)
    assert "13912345678" not in text and "13800138000" not in text and "赵六" not in text
    assert record.before["complainant_phone"] != record.after["complainant_phone"]  # the change stays visible
    assert record.after["complainant_phone"].startswith("已加密#")
