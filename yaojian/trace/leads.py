"""Lead services 线索服务: registry tables for the scans, idempotent saving of scan results, the handling steps,
and the CSV the command line writes. Every write has an explicit actor and an audit record.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass

import pyarrow as pa
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from yaojian.core import access, audit
from yaojian.core.choices import AuditAction
from yaojian.core.models import Division
from yaojian.core.services import notify_changed
from yaojian.registry.choices import LicenceStatus, LicenceType, ProductCategory
from yaojian.registry.models import Enterprise, Licence, ProductPackage

from .anomalies import KIND_LABELS, LICENCES_SCHEMA, PARTY_PREFIX, PRODUCTS_SCHEMA
from .models import CLOSED_STATUSES, LeadStatus, TraceLead, TraceLeadStep

CHUNK = 2000

# ---------------------------------------------------------------- registry tables for the scan 主数据


def registry_tables(as_of: dt.date | None = None) -> tuple[pa.Table, pa.Table]:
    """(products, licences) for :func:`yaojian.trace.anomalies.run_scan` from the platform database.

    Licences valid on ``as_of`` decide what a party may receive: any drug licence → drugs; wholesale,
    manufacturing, medical institution or a retail scope naming 处方药 (not only 非处方药) → prescription
    drugs; manufacturing, medical institution or a scope naming 麻醉/精神药品 → controlled drugs. Every enterprise
    is listed, so one with no valid drug licence counts as unlicensed. Products are the registry's active packaging
    levels 药品包装规格: one row per 药品标识码, with its level and, for the unit of sale, its split units 拆零."""
    as_of = as_of or timezone.localdate()
    products = {name: [] for name in PRODUCTS_SCHEMA.names}
    rows = ProductPackage.objects.filter(is_active=True, product__category=ProductCategory.DRUG).values_list(
        "identifier",
        "product__approval_number",
        "level",
        "product__is_prescription",
        "product__is_narcotic_psychotropic",
        "split_units",
    )
    for code, approval, level, rx, controlled, split in rows.iterator(chunk_size=CHUNK):
        products["code"].append(code)
        products["product"].append(approval)
        products["level"].append(level)
        products["rx"].append(rx)
        products["controlled"].append(controlled)
        products["units"].append(None if level else split or 1)
    drug_types = {LicenceType.DRUG_MANUFACTURING, LicenceType.DRUG_WHOLESALE, LicenceType.DRUG_RETAIL}
    drug_types.add(LicenceType.MEDICAL_INSTITUTION)
    held: dict[str, list[bool]] = {}
    valid = Licence.objects.filter(status=LicenceStatus.VALID, valid_until__gte=as_of, type__in=drug_types)
    for code, kind, scope in valid.values_list("enterprise__credit_code", "type", "scope").iterator(chunk_size=CHUNK):
        rx = kind != LicenceType.DRUG_RETAIL or re.search(r"(?<!非)处方药", scope or "") is not None
        controlled = kind in (LicenceType.DRUG_MANUFACTURING, LicenceType.MEDICAL_INSTITUTION) or bool(
            re.search("麻醉|精神药品", scope or "")
        )
        flags = held.setdefault(code, [False, False])
        flags[0] |= rx
        flags[1] |= controlled
    licences = {name: [] for name in LICENCES_SCHEMA.names}
    for code in Enterprise.objects.values_list("credit_code", flat=True).iterator(chunk_size=CHUNK):
        flags = held.get(code)
        licences["party"].append(PARTY_PREFIX + code)
        licences["drug_ok"].append(flags is not None)
        licences["rx_ok"].append(bool(flags and flags[0]))
        licences["controlled_ok"].append(bool(flags and flags[1]))
    return pa.table(products, schema=PRODUCTS_SCHEMA), pa.table(licences, schema=LICENCES_SCHEMA)


# ---------------------------------------------------------------- saving scan results 保存线索


@dataclass
class SaveResult:
    created: int
    seen: int  # already known, left as they were

    @property
    def total(self) -> int:
        return self.created + self.seen


def _parties(codes: set[str]) -> dict[str, tuple[int, str]]:
    """credit code → (enterprise id, division code) for the parties the registry knows."""
    found = {}
    codes = sorted(codes)
    for start in range(0, len(codes), CHUNK):
        rows = Enterprise.objects.filter(credit_code__in=codes[start : start + CHUNK])
        found.update({c: (pk, d) for c, pk, d in rows.values_list("credit_code", "pk", "division_code")})
    return found


def _division(credit_code: str, known: set[str]) -> str:
    """An unregistered party's division: characters 3–8 of its USCC (registering authority, GB 32100-2015)."""
    code = credit_code[2:8]
    return code if code in known else ""


@transaction.atomic
def save_leads(leads: pa.Table, *, actor=None, scanned_at: dt.datetime | None = None) -> SaveResult:
    """Store the leads of a scan: new keys become leads, known keys only get their scan time; one audit record
    for the batch (with a hash of the keys); changed enterprises are announced for the risk portrait."""
    if actor is not None and not access.has_perm(actor, TraceLead, access.ADD):
        raise PermissionDenied("无此操作权限")
    scanned_at = scanned_at or timezone.now()
    rows = leads.to_pylist()
    keys = [r["key"] for r in rows]
    existing: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        existing.update(TraceLead.objects.filter(key__in=chunk).values_list("key", flat=True))
        TraceLead.objects.filter(key__in=chunk).update(last_scanned_at=scanned_at)
    fresh = [r for r in rows if r["key"] not in existing]
    credit = {r["party"][len(PARTY_PREFIX) :] for r in fresh if (r["party"] or "").startswith(PARTY_PREFIX)}
    parties = _parties(credit)
    divisions = set(Division.objects.filter(code__in={c[2:8] for c in credit}).values_list("code", flat=True))
    objects = []
    for r in fresh:
        code = (r["party"] or "").removeprefix(PARTY_PREFIX)
        enterprise_id, division = parties.get(code, (None, _division(code, divisions)))
        objects.append(
            TraceLead(
                division_code=division,
                enterprise_id=enterprise_id,
                kind=r["kind"],
                code=r["code"],
                party=r["party"] or "",
                other_party=r["other_party"] or "",
                product_code=r["product"] or "",
                found_at=r["last_time"],
                evidence=json.loads(r["evidence"]),
                key=r["key"],
                last_scanned_at=scanned_at,
            )
        )
    TraceLead.objects.bulk_create(objects, batch_size=CHUNK)
    audit.record(
        actor=actor,
        action=AuditAction.IMPORT,
        object_type="trace.tracelead",
        object_repr=f"追溯线索扫描：新增 {len(objects)} 条，已有 {len(existing)} 条",
        after={
            "created": len(objects),
            "seen": len(existing),
            "keys_sha256": hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest(),
        },
    )
    notify_changed(TraceLead, {o.enterprise_id for o in objects})
    return SaveResult(created=len(objects), seen=len(existing))


# ---------------------------------------------------------------- handling 处理


@dataclass
class ScanResult:
    table: pa.Table  # every lead the scan found
    saved: SaveResult | None  # what reached the lead queue (None when not saved)


def scan_and_save(root, *, engine: str = "duckdb", save: bool = True, actor=None) -> ScanResult:
    """One anomaly scan over the store at ``root`` with the registry's products and licences and the published
    thresholds (their version goes into each lead's evidence), its leads put in the queue 线索队列 (run by
    ``yaojian trace scan`` and the nightly job). An empty store finds nothing."""
    from .anomalies import run_scan
    from .store import Store

    if Store(root).is_empty():
        return ScanResult(pa.table({"key": pa.array([], pa.string())}), None)
    table = run_scan(root, engine=engine)
    return ScanResult(table, save_leads(table, actor=actor) if save else None)


def _check(actor, lead: TraceLead) -> None:
    if actor is not None and not access.can_act_on(actor, lead, access.CHANGE):
        raise PermissionDenied("无此操作权限")


@transaction.atomic
def record_step(
    lead: TraceLead, *, actor, status: str, note: str = "", assignee=None, outcome: str | None = None
) -> TraceLeadStep:
    """One handling step: moves the lead to ``status`` (with its assignee or outcome), audited with before/after.

    A closed lead (查实/排除) takes no further steps; closing needs the outcome."""
    _check(actor, lead)
    if lead.is_closed:
        raise ValueError("线索已办结，不能再记录处理步骤")
    if status not in LeadStatus.values:
        raise ValueError(f"未知状态 {status!r}")
    if status in CLOSED_STATUSES and not (outcome or "").strip():
        raise ValueError("办结须填写处理结果")
    if status == LeadStatus.ASSIGNED and assignee is None:
        raise ValueError("分派须指定承办人")
    before = audit.snapshot(lead)
    lead.status = status
    if assignee is not None:
        lead.assignee = assignee
    if outcome is not None:
        lead.outcome = outcome.strip()
    lead.save()
    step = TraceLeadStep.objects.create(lead=lead, status=status, note=note.strip(), recorded_by=actor)
    audit.record_change(lead, actor=actor, action=AuditAction.UPDATE, before=before, after=audit.snapshot(lead))
    notify_changed(TraceLead, [lead.enterprise_id])
    return step


# ---------------------------------------------------------------- CSV 导出

CSV_COLUMNS = ("kind", "label", "code", "party", "other_party", "product", "first_time", "last_time", "evidence")


def write_leads_csv(leads: pa.Table, fh) -> int:
    """Write scan results as CSV (UTF-8; evidence as JSON in one column); returns the number of leads."""
    writer = csv.writer(fh)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for r in leads.to_pylist():
        first, last = (r[k].isoformat() if r[k] else "" for k in ("first_time", "last_time"))
        row = (r["kind"], KIND_LABELS[r["kind"]], r["code"], r["party"], r["other_party"], r["product"])
        writer.writerow((*row, first, last, r["evidence"]))
        count += 1
    return count
