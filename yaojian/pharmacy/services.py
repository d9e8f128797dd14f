"""Write path 写入服务 of the smart-pharmacy warning: submissions, daily counts, clear-text look-ups, purge, response.

Every write names its actor and lands in the audit trail in the same transaction: a submission batch is one
audit record with its content hash (buyer identities only as keyed hashes), a clear-text look-up 查看明文 one
record with the reason (never the clear value), a purge one record with the cutoff and the count.
"""

import datetime
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from yaojian.core import access, audit, services
from yaojian.core.choices import AuditAction
from yaojian.registry.models import Enterprise

from . import privacy
from .models import Alert, AlertStatus, DailyCount, DrugClass, PurchaseRecord, WarningConfig

PHARMACY_TYPES = ("retail_pharmacy", "retail_chain")
REVEAL = "reveal"  # permission action and audit action of a clear-text look-up 查看明文
RECORD_TYPE = "pharmacy.purchaserecord"  # audit object type of submissions, look-ups and purges

# Submission fields and the column headers of the upload file (Chinese header or the field name).
COLUMNS = {
    "receipt_number": "小票号",
    "line": "行号",
    "sold_at": "销售时间",
    "drug_name": "药品名称",
    "drug_class": "监测类别",
    "quantity": "数量",
    "buyer_name": "购药人姓名",
    "buyer_id_number": "身份证号",
}
REQUIRED = ("receipt_number", "sold_at", "drug_name", "buyer_name", "buyer_id_number")


@dataclass
class RowError:
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "reason": self.reason}

    def __str__(self):
        return f"第{self.row}行「{self.column}」：{self.reason}"


class SubmissionRejected(Exception):
    """The whole batch is refused (all-or-nothing); ``errors`` names each bad row and column."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} 处错误，未写入任何记录")
        self.errors = errors


@dataclass
class SubmitResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    audit_seq: int | None = None
    days: set = field(default_factory=set)


# --- who may submit -----------------------------------------------------------------------------


def check_submitter(actor, pharmacy: Enterprise) -> None:
    """A registered retail pharmacy submits only for itself; system jobs (actor None) for any pharmacy."""
    if pharmacy.type not in PHARMACY_TYPES:
        raise PermissionDenied("仅药品零售企业（药店）可上报实名购药记录")
    if actor is None:
        return
    if not access.has_perm(actor, PurchaseRecord, access.ADD) or actor.enterprise_id != pharmacy.pk:
        raise PermissionDenied("只能为本药店上报实名购药记录")


def pharmacy_of(actor) -> Enterprise:
    """The pharmacy an account submits for (its own enterprise), or PermissionDenied."""
    if not access.has_perm(actor, PurchaseRecord, access.ADD) or actor.enterprise_id is None:
        raise PermissionDenied("只有药店账号可以上报实名购药记录")
    pharmacy = actor.enterprise
    check_submitter(actor, pharmacy)
    return pharmacy


# --- row validation -----------------------------------------------------------------------------


class Classifier:
    """Maps a sold item to its watched class 监测类别: an explicit class (code or name) first, else keywords."""

    def __init__(self):
        self.classes = list(DrugClass.objects.filter(is_active=True))
        self.by_label = {c.code: c for c in self.classes} | {c.name: c for c in self.classes}

    def __call__(self, drug_name: str, given: str = "") -> DrugClass | str:
        given = str(given or "").strip()
        if given:
            return self.by_label.get(given) or f"未知的监测类别“{given}”"
        for drug_class in self.classes:
            if any(word in drug_name for word in drug_class.keyword_list):
                return drug_class
        return "不属于监测药品类别（可在“监测类别”列指明）"


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _positive_int(value, default: int) -> int | None:
    if value in (None, ""):
        return default
    if isinstance(value, float) and value.is_integer():  # spreadsheet numbers arrive as floats
        value = int(value)
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if number >= 1 else None


def _datetime(value) -> datetime.datetime | None:
    """A sale time from a datetime, a date (noon) or text such as 2025-06-01 10:30 or 2025/6/1."""
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime.combine(value, datetime.time(12))
    else:
        text = _text(value).replace("/", "-").replace("T", " ")
        try:
            moment = parse_datetime(text)
            day = parse_date(text) if moment is None else None
        except ValueError:  # well formed but impossible (month 13)
            return None
        if day is not None:
            moment = datetime.datetime.combine(day, datetime.time(12))
        if moment is None:
            return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def clean_rows(rows: Iterable[tuple[int, dict]], pharmacy: Enterprise) -> tuple[list[dict], list[RowError]]:
    """Validate (row number, raw values) pairs; returns clean field dicts and every error found."""
    classify, now = Classifier(), timezone.now()
    clean, errors, seen = [], [], {}
    for number, raw in rows:
        row_errors = [RowError(number, COLUMNS[name], "必填") for name in REQUIRED if not _text(raw.get(name))]
        values = {name: _text(raw.get(name)) for name in ("receipt_number", "drug_name", "buyer_name")}
        values["buyer_id_number"] = _text(raw.get("buyer_id_number")).upper()
        if len(values["receipt_number"]) > 40:
            row_errors.append(RowError(number, COLUMNS["receipt_number"], "过长（最多40字符）"))
        if len(values["drug_name"]) > 200:
            row_errors.append(RowError(number, COLUMNS["drug_name"], "过长（最多200字）"))
        for name, default in (("line", 1), ("quantity", 1)):
            values[name] = _positive_int(raw.get(name), default)
            if values[name] is None or values[name] > 32767:
                row_errors.append(RowError(number, COLUMNS[name], "应为正整数"))
        if _text(raw.get("sold_at")):
            values["sold_at"] = _datetime(raw.get("sold_at"))
            if values["sold_at"] is None:
                row_errors.append(RowError(number, COLUMNS["sold_at"], "时间格式无效，应为 YYYY-MM-DD HH:MM"))
            elif values["sold_at"] > now + datetime.timedelta(minutes=5):
                row_errors.append(RowError(number, COLUMNS["sold_at"], "销售时间晚于当前时间"))
        if values["drug_name"]:
            found = classify(values["drug_name"], raw.get("drug_class"))
            if isinstance(found, str):
                row_errors.append(RowError(number, COLUMNS["drug_class"], found))
            else:
                values["drug_class"] = found
        if values["buyer_name"] or values["buyer_id_number"]:
            for name, reason in privacy.check_buyer(values["buyer_name"], values["buyer_id_number"]).items():
                if _text(raw.get(name)):
                    row_errors.append(RowError(number, COLUMNS[name], reason))
        key = (values["receipt_number"], values["line"])
        if not row_errors and key in seen:
            row_errors.append(RowError(number, COLUMNS["line"], f"与第{seen[key]}行的小票号和行号重复"))
        seen.setdefault(key, number)
        if row_errors:
            errors.extend(row_errors)
        else:
            values["sold_on"] = timezone.localdate(values["sold_at"])
            values["buyer_hash"] = privacy.buyer_hash(values["buyer_id_number"])
            clean.append(values)
    return clean, errors


# --- submission ---------------------------------------------------------------------------------

COMPARED = ("sold_at", "drug_name", "drug_class_id", "quantity", "buyer_hash", "buyer_name")
UPDATED_FIELDS = [*COMPARED, "sold_on", "buyer_id_number", "source", "updated_at"]


def _content_hash(pharmacy: Enterprise, rows: list[dict]) -> str:
    """SHA-256 of the batch as submitted, buyer identities replaced by their keyed hash."""
    material = [
        {
            k: (v.pk if isinstance(v, DrugClass) else v)
            for k, v in r.items()
            if k not in ("buyer_name", "buyer_id_number")
        }
        for r in rows
    ]
    return hashlib.sha256(audit.canonical({"pharmacy": pharmacy.pk, "rows": material}).encode()).hexdigest()


def submit_records(actor, pharmacy: Enterprise, rows: Iterable[tuple[int, dict]], *, source: str, file_name=""):
    """Validate and upsert a batch by its natural key (pharmacy, receipt number, line): all or nothing.

    Re-submitting the same rows changes nothing (idempotent); a corrected row replaces the stored one.
    """
    check_submitter(actor, pharmacy)
    clean, errors = clean_rows(rows, pharmacy)
    if errors:
        raise SubmissionRejected(errors)
    if not clean:
        raise SubmissionRejected([RowError(1, "-", "没有数据行")])
    result = SubmitResult(days={r["sold_on"] for r in clean})
    with transaction.atomic():
        existing = {
            (r.receipt_number, r.line): r
            for r in PurchaseRecord.objects.select_for_update().filter(
                pharmacy=pharmacy, receipt_number__in={r["receipt_number"] for r in clean}
            )
        }
        new, changed = [], []
        for values in clean:
            record = existing.get((values["receipt_number"], values["line"]))
            if record is None:
                new.append(
                    PurchaseRecord(pharmacy=pharmacy, division_code=pharmacy.division_id, source=source, **values)
                )
                continue
            result.days.add(record.sold_on)
            candidate = PurchaseRecord(**values)
            if all(getattr(record, name) == getattr(candidate, name) for name in COMPARED):
                result.unchanged += 1
                continue
            for name, value in values.items():
                setattr(record, name, value)
            record.source, record.updated_at = source, timezone.now()
            changed.append(record)
        PurchaseRecord.objects.bulk_create(new, batch_size=2000)
        if changed:
            PurchaseRecord.objects.bulk_update(changed, UPDATED_FIELDS)
        result.created, result.updated = len(new), len(changed)
        rec = audit.record(
            actor=actor,
            action=AuditAction.IMPORT,
            object_type=RECORD_TYPE,
            object_repr=f"{pharmacy.name} 实名购药记录 {len(clean)} 条",
            division_code=pharmacy.division_id,
            after={
                "pharmacy": pharmacy.pk,
                "source": source,
                "file": file_name,
                "rows": len(clean),
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "sha256": _content_hash(pharmacy, clean),
            },
        )
        result.audit_seq = rec.seq
        refresh_counts(result.days, pharmacy_ids=[pharmacy.pk])
    return result


# --- daily counts -------------------------------------------------------------------------------


def refresh_counts(days: Iterable[datetime.date], pharmacy_ids=None) -> int:
    """Recompute the daily counts 每日计数 of these days from the purchase records (one GROUP BY query).

    Only days that still hold records are replaced: counts of purged days are kept as they are.
    """
    records = PurchaseRecord.objects.filter(sold_on__in=list(days))
    if pharmacy_ids is not None:
        records = records.filter(pharmacy_id__in=list(pharmacy_ids))
    present = set(records.values_list("sold_on", "pharmacy_id").distinct())
    if not present:
        return 0
    grouped = records.values("sold_on", "pharmacy_id", "division_code", "drug_class_id").annotate(
        n=Count("id"), qty=Sum("quantity"), people=Count("buyer_hash", distinct=True)
    )
    with transaction.atomic():
        stale = Q()
        for day in {d for d, _p in present}:
            stale |= Q(day=day, pharmacy_id__in={p for d, p in present if d == day})
        DailyCount.objects.filter(stale).delete()
        DailyCount.objects.bulk_create(
            [
                DailyCount(
                    day=g["sold_on"],
                    pharmacy_id=g["pharmacy_id"],
                    division_code=g["division_code"],
                    drug_class_id=g["drug_class_id"],
                    purchases=g["n"],
                    quantity=g["qty"] or 0,
                    buyers=g["people"],
                )
                for g in grouped
            ],
            batch_size=5000,
        )
    return len(present)


# --- clear-text look-up 查看明文 ------------------------------------------------------------------


def can_reveal(user) -> bool:
    return access.has_perm(user, PurchaseRecord, REVEAL)


@transaction.atomic
def reveal(actor, record: PurchaseRecord, reason: str) -> dict[str, str]:
    """The buyer's clear name and ID number for an authorised role, with the reason in the audit trail."""
    if not can_reveal(actor) or not access.can_act_on(actor, record, access.VIEW):
        raise PermissionDenied("无权查看明文")
    reason = str(reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": "请填写查看原因（至少4个字）"})
    audit.record(
        actor=actor,
        action=REVEAL,
        object_type=RECORD_TYPE,
        object_id=record.pk,
        object_repr=str(record),
        division_code=record.division_code,
        after={"reason": reason[:500], "fields": ["buyer_name", "buyer_id_number"]},
    )
    return {"buyer_name": record.buyer_name, "buyer_id_number": record.buyer_id_number}


# --- retention 保存期限 ---------------------------------------------------------------------------


def retention_cutoff(today: datetime.date, retention_days: int | None = None) -> datetime.date:
    """First day still kept: records sold before it are deleted."""
    days = WarningConfig.current().retention_days if retention_days is None else retention_days
    return today - datetime.timedelta(days=days)


@transaction.atomic
def purge(*, today: datetime.date | None = None, retention_days: int | None = None, actor=None) -> int:
    """Delete purchase records older than the retention period; their daily counts are computed first and kept."""
    today = today or timezone.localdate()
    cutoff = retention_cutoff(today, retention_days)
    old = PurchaseRecord.objects.filter(sold_on__lt=cutoff)
    days = set(old.values_list("sold_on", flat=True).distinct())
    refresh_counts(days)
    deleted, _by_model = old.delete()
    audit.record(
        actor=actor,
        action=AuditAction.DELETE,
        object_type=RECORD_TYPE,
        object_repr=f"超过保存期限的实名购药记录 {deleted} 条",
        before={"count": deleted, "sold_before": cutoff, "days": len(days)},
        after={"retention_days": (today - cutoff).days, "run_on": today},
    )
    return deleted


# --- response 处置 ------------------------------------------------------------------------------


def respond(actor, alert: Alert, *, status: str, assignee=None, note: str = "") -> Alert:
    """Move an alert along 新预警 → 核实中 → 已关闭, assign it and append a dated note (audited)."""
    changes = {"status": status, "assignee": assignee}
    note = note.strip()
    if note:
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        entry = f"[{stamp} {actor}] {note}"
        changes["notes"] = f"{alert.notes}\n{entry}".strip()
    if status == AlertStatus.CLOSED and alert.closed_at is None:
        changes["closed_at"] = timezone.now()
    elif status != AlertStatus.CLOSED:
        changes["closed_at"] = None
    return services.update_record(alert, actor=actor, **changes)


@transaction.atomic
def publish_config(actor, values: dict) -> WarningConfig:
    """Publish a new version of the warning settings 预警参数 (the newest is in force; audited)."""
    if actor is not None and not access.has_perm(actor, WarningConfig, access.ADD):
        raise PermissionDenied("无权修改预警参数")
    current = WarningConfig.current()
    config = WarningConfig.objects.create(version=current.version + 1, created_by=actor, **values)
    audit.record_change(config, actor=actor, action=AuditAction.CREATE, after=audit.snapshot(config))
    return config
