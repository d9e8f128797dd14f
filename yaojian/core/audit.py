"""Audit trail 全程留痕: append-only records chained by keyed hashes.

Each record's ``hash`` is HMAC-SM3 (key ``settings.AUDIT_KEY``, kept outside the
database) over a canonical JSON of its content and the previous record's hash;
``seq`` is gap-free. The chain head stores the last seq and hash under its own MAC,
so an edited, deleted, inserted or truncated record is detected by ``verify_chain``.
SM3 follows GB/T 39786-2021's call for SM3-HMAC integrity of logs.
"""

import datetime
import decimal
import hmac
import json
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .models import AuditChainHead, AuditRecord
from .requestid import current_request_id

HASH_ALGORITHM = "sm3"
GENESIS = "0" * 64


def _json_default(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"不可序列化的值: {type(value).__name__}")


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def jsonable(value):
    """Round-trip through canonical JSON so what is hashed equals what the database returns."""
    return None if value is None else json.loads(canonical(value))


def _mac(message: str) -> str:
    return hmac.new(settings.AUDIT_KEY.encode(), message.encode(), HASH_ALGORITHM).hexdigest()


def snapshot(obj: models.Model) -> dict:
    """Field values of a model instance, JSON-ready (foreign keys as their ids).

    Encrypted personal data never enters the trail in clear: it is replaced by a keyed
    fingerprint, so a change is still visible (the fingerprint changes) without the value.
    """
    from .crypto import EncryptedTextField

    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in ("created_at", "updated_at"):
            continue
        value = field.value_from_object(obj)
        if isinstance(field, EncryptedTextField) and value:
            value = "已加密#" + _mac(f"pii:{value}")[:12]
        data[field.attname] = value
    return jsonable(data)


def _record_material(rec: AuditRecord) -> str:
    return canonical(
        {
            "seq": rec.seq,
            "timestamp": rec.timestamp.astimezone(datetime.UTC).isoformat(),
            "actor_id": rec.actor_id,
            "actor_name": rec.actor_name,
            "request_id": rec.request_id,
            "action": rec.action,
            "object_type": rec.object_type,
            "object_id": rec.object_id,
            "object_repr": rec.object_repr,
            "division_code": rec.division_code,
            "before": rec.before,
            "after": rec.after,
            "prev_hash": rec.prev_hash,
        }
    )


def _head_mac(seq: int, last_hash: str) -> str:
    return _mac(f"head:{seq}:{last_hash}")


def _lock_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        head = AuditChainHead.objects.create(pk=1, last_seq=0, last_hash=GENESIS, head_mac=_head_mac(0, GENESIS))
    return head


def record(
    *,
    actor,
    action: str,
    object_type: str,
    object_id="",
    object_repr: str = "",
    division_code: str = "",
    before=None,
    after=None,
) -> AuditRecord:
    """Append one audit record. Must run inside the transaction that makes the change."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("审计记录必须与数据变更在同一事务中写入")
    head = _lock_head()
    rec = AuditRecord(
        seq=head.last_seq + 1,
        # Microseconds are kept by both SQLite and PostgreSQL, so the hashed value survives storage.
        timestamp=timezone.now(),
        actor_id=getattr(actor, "pk", None),
        actor_name=(actor.get_username() if actor is not None else "system")[:150],
        request_id=current_request_id(),
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        object_repr=str(object_repr)[:200],
        division_code=division_code or "",
        before=jsonable(before),
        after=jsonable(after),
        prev_hash=head.last_hash,
    )
    rec.hash = _mac(_record_material(rec))
    rec.save(force_insert=True)
    head.last_seq, head.last_hash = rec.seq, rec.hash
    head.head_mac = _head_mac(rec.seq, rec.hash)
    head.save(update_fields=["last_seq", "last_hash", "head_mac"])
    return rec


def record_change(obj: models.Model, *, actor, action: str, before=None, after=None) -> AuditRecord:
    return record(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        object_repr=str(obj),
        division_code=getattr(obj, "division_code", "") or getattr(obj, "division_id", "") or "",
        before=before,
        after=after,
    )


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify_chain(chunk_size: int = 5000) -> VerifyResult:
    """Recompute every link in order; report the first broken record."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for rec in AuditRecord.objects.order_by("seq").iterator(chunk_size=chunk_size):
        if rec.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"缺少第 {expected_seq} 号记录（被删除或插入）")
        if rec.prev_hash != expected_prev:
            return VerifyResult(False, checked, rec.seq, "前序哈希与上一条记录不符")
        if not hmac.compare_digest(rec.hash, _mac(_record_material(rec))):
            return VerifyResult(False, checked, rec.seq, "记录内容被修改（哈希不符）")
        expected_prev, expected_seq, checked = rec.hash, expected_seq + 1, checked + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        return VerifyResult(checked == 0, checked, 1 if checked else None, "" if checked == 0 else "链头缺失")
    if not hmac.compare_digest(head.head_mac, _head_mac(head.last_seq, head.last_hash)):
        return VerifyResult(False, checked, head.last_seq, "链头被修改")
    if head.last_seq != checked or head.last_hash != expected_prev:
        return VerifyResult(False, checked, checked + 1, f"链头指向第 {head.last_seq} 号记录，末尾记录被删除")
    return VerifyResult(True, checked)
