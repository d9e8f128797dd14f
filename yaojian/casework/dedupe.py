"""Duplicate detection 重复报告识别: score likely duplicate pairs set-based, queue them, merge or dismiss.

Blocking 分块: two reports are compared only when they share a suspect/interacting drug (the registry
product where matched, else the normalised drug name), a reaction (the coded term where coded, else
the normalised reported text), the patient's sex, and an age within ±1 year (or, both ages unknown,
the same age group); and when both reaction onset dates are known they lie within the tolerance.
DuckDB does the blocking as an equi-join (each report probes ages −1, 0, +1), so the work grows with
block sizes, not with the square of the table.

Score 相似度 (weights in the active ``CaseworkConfig``, summing to 1):
drug (always, by blocking) + reaction × shared/max(reactions of either) + sex when known + age (full
when equal, half when ±1 or both only an age group) + onset × (1 − days apart/(tolerance+1)) +
a shared batch number + equal patient initials. Pairs at or above the threshold are stored.

Re-running never recreates a pair already reviewed (the pair is unique and dismissed/merged pairs
are left as they are); pending pairs get their score refreshed. A merge sets ``duplicate_of`` on the
report not kept (through the audited record service), so it drops out of counts and signals; an
unmerge clears it and returns the pair to the queue.
"""

import hashlib
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from yaojian.adr.models import AdrDrug, AdrReaction, AdrReport, DrugRole
from yaojian.core import access, audit, services
from yaojian.core.choices import AuditAction

from .coding import counted_reports
from .models import CandidateStatus, CaseworkConfig, DuplicateCandidate
from .normalise import normalise

CHUNK = 5000

PAIRS_SQL = """
WITH items AS (
    SELECT d.report_id, d.drug_key, x.reaction_key, x.onset, r.sex, r.age, r.age_group
    FROM drugs d JOIN reactions x USING (report_id) JOIN reports r ON r.id = d.report_id
), probe AS (  -- each item looks for ages −1, 0, +1; an unknown age looks for its age group
    SELECT *, unnest(CASE WHEN age IS NULL THEN ['g:' || age_group]
                          ELSE [CAST(age - 1 AS VARCHAR), CAST(age AS VARCHAR), CAST(age + 1 AS VARCHAR)]
                     END) AS age_key
    FROM items
), target AS (
    SELECT *, CASE WHEN age IS NULL THEN 'g:' || age_group ELSE CAST(age AS VARCHAR) END AS age_key FROM items
), matches AS (
    SELECT p.report_id AS a, t.report_id AS b, p.drug_key, p.reaction_key,
           abs(datediff('day', p.onset, t.onset)) AS onset_diff
    FROM probe p JOIN target t
      ON p.drug_key = t.drug_key AND p.reaction_key = t.reaction_key AND p.sex = t.sex AND p.age_key = t.age_key
    WHERE p.report_id < t.report_id
      AND (p.onset IS NULL OR t.onset IS NULL OR abs(datediff('day', p.onset, t.onset)) <= {tolerance})
), pairs AS (
    SELECT a, b, list(DISTINCT drug_key ORDER BY drug_key) AS drugs,
           list(DISTINCT reaction_key ORDER BY reaction_key) AS reactions,
           count(DISTINCT reaction_key) AS shared_reactions, min(onset_diff) AS onset_diff
    FROM matches GROUP BY a, b
), reaction_counts AS (
    SELECT report_id, count(DISTINCT reaction_key) AS n FROM reactions GROUP BY report_id
), batches AS (
    SELECT DISTINCT p.a, p.b FROM pairs p
    JOIN drugs da ON da.report_id = p.a JOIN drugs db ON db.report_id = p.b
    WHERE da.batch <> '' AND da.batch = db.batch AND da.drug_key = db.drug_key
), scored AS (
    SELECT p.*, ra.sex, ra.age AS age_a, rb.age AS age_b, ra.age_group AS group_a, rb.age_group AS group_b,
           ra.division_code AS division_a, rb.division_code AS division_b,
           bt.a IS NOT NULL AS shared_batch,
           ra.initials <> '' AND ra.initials = rb.initials AS same_initials,
           {w_drug} AS s_drug,
           {w_reaction} * p.shared_reactions / greatest(ca.n, cb.n) AS s_reaction,
           CASE WHEN ra.sex <> 'U' THEN {w_sex} ELSE 0 END AS s_sex,
           CASE WHEN ra.age IS NOT NULL AND ra.age = rb.age THEN {w_age}
                WHEN ra.age IS NOT NULL AND rb.age IS NOT NULL THEN {w_age} / 2
                WHEN ra.age_group <> '' THEN {w_age} / 2 ELSE 0 END AS s_age,
           CASE WHEN p.onset_diff IS NULL THEN 0 ELSE {w_onset} * (1 - p.onset_diff / ({tolerance} + 1)) END AS s_onset,
           CASE WHEN bt.a IS NOT NULL THEN {w_batch} ELSE 0 END AS s_batch,
           CASE WHEN ra.initials <> '' AND ra.initials = rb.initials THEN {w_initials} ELSE 0 END AS s_initials
    FROM pairs p
    JOIN reports ra ON ra.id = p.a JOIN reports rb ON rb.id = p.b
    JOIN reaction_counts ca ON ca.report_id = p.a JOIN reaction_counts cb ON cb.report_id = p.b
    LEFT JOIN batches bt ON bt.a = p.a AND bt.b = p.b
)
SELECT *, s_drug + s_reaction + s_sex + s_age + s_onset + s_batch + s_initials AS score
FROM scored
WHERE s_drug + s_reaction + s_sex + s_age + s_onset + s_batch + s_initials >= {threshold} - 1e-9
ORDER BY a, b
"""
PARTS = ("s_drug", "s_reaction", "s_sex", "s_age", "s_onset", "s_batch", "s_initials")
WEIGHTS = (
    "weight_drug",
    "weight_reaction",
    "weight_sex",
    "weight_age",
    "weight_onset",
    "weight_batch",
    "weight_initials",
)


def _keys(values: list[str], prefix: str) -> tuple[list[str], dict[str, str]]:
    """Normalised keys of ``values`` (each distinct text normalised once) and a label for each key."""
    normalised = {text: prefix + normalise(text) for text in sorted(set(values))}
    labels = {}
    for text, key in normalised.items():
        labels.setdefault(key, text)
    return [normalised[v] for v in values], labels


def _columns(rows, names) -> dict[str, list]:
    columns = {name: [] for name in names}
    for row in rows:
        for name, value in zip(names, row, strict=True):
            columns[name].append(value)
    return columns


def _tables(reports: QuerySet) -> tuple[dict[str, pa.Table], dict[str, str]]:
    """The three input tables (reports, drugs, reactions) and labels for the drug and reaction keys."""
    report_rows = reports.values_list(
        "pk", "patient_sex", "patient_age", "patient_age_group", "patient_initials", "division_code", "onset_on"
    ).order_by()
    r = _columns(
        report_rows.iterator(chunk_size=CHUNK), ("id", "sex", "age", "age_group", "initials", "division_code", "onset")
    )
    r["initials"] = [normalise(v) for v in r["initials"]]
    report_onset = dict(zip(r["id"], r.pop("onset"), strict=True))

    drug_rows = AdrDrug.objects.filter(report__in=reports, role__in=(DrugRole.SUSPECT, DrugRole.INTERACTING))
    d = _columns(
        drug_rows.values_list("report_id", "product_id", "name", "batch_number").order_by().iterator(chunk_size=CHUNK),
        ("report_id", "product_id", "name", "batch"),
    )
    name_keys, labels = _keys(d["name"], "n:")
    product_names = dict(zip(d["product_id"], d["name"], strict=True))
    d["drug_key"] = [f"p:{p}" if p else k for p, k in zip(d.pop("product_id"), name_keys, strict=True)]
    labels.update({f"p:{p}": name for p, name in product_names.items() if p})
    d["batch"] = [normalise(b) for b in d["batch"]]
    d.pop("name")

    reaction_rows = AdrReaction.objects.filter(report__in=reports).values_list(
        "report_id", "coded_term_id", "coded_term__name", "reported_term", "onset_on"
    )
    x = _columns(
        reaction_rows.order_by().iterator(chunk_size=CHUNK), ("report_id", "term", "term_name", "text", "onset")
    )
    text_keys, text_labels = _keys(x["text"], "x:")
    labels.update(text_labels)
    labels.update({f"t:{t}": name for t, name in zip(x["term"], x["term_name"], strict=True) if t})
    x["reaction_key"] = [f"t:{t}" if t else k for t, k in zip(x.pop("term"), text_keys, strict=True)]
    # A reaction without its own onset date takes the report's.
    x["onset"] = [o or report_onset.get(rid) for rid, o in zip(x["report_id"], x["onset"], strict=True)]
    for name in ("term_name", "text"):
        x.pop(name)
    tables = {
        "reports": pa.table(r, schema=_schema(r, {"age": pa.int32()})),
        "drugs": pa.table(d, schema=_schema(d)),
        "reactions": pa.table(x, schema=_schema(x, {"onset": pa.date32()})),
    }
    return tables, labels


def _schema(columns: dict, types: dict | None = None) -> pa.Schema:
    types = types or {}
    return pa.schema(
        [(name, types.get(name, pa.int64() if name in ("id", "report_id") else pa.string())) for name in columns]
    )


@dataclass
class DedupeResult:
    compared_reports: int
    candidates: int  # pairs at or above the threshold
    created: int
    refreshed: int
    kept_reviewed: int  # pairs already merged or dismissed, left as they are


def score_pairs(reports: QuerySet, config: CaseworkConfig) -> list[dict]:
    """Every pair of ``reports`` at or above the threshold, with score parts and evidence."""
    tables, labels = _tables(reports)
    if not tables["reports"].num_rows:
        return []
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    # Numbers only (cast here), inlined into the statement.
    params = {name.replace("weight_", "w_"): float(config.value(name)) for name in WEIGHTS}
    params |= {
        "tolerance": int(config.value("onset_tolerance_days")),
        "threshold": float(config.value("duplicate_threshold")),
    }
    sql = PAIRS_SQL.format(**params)
    cursor = con.execute(sql)
    names = [c[0] for c in cursor.description]
    pairs = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    con.close()
    for pair in pairs:
        pair["evidence"] = {
            "drugs": [labels.get(k, k) for k in pair["drugs"]],
            "reactions": [labels.get(k, k) for k in pair["reactions"]],
            "sex": pair["sex"],
            "ages": [pair["age_a"], pair["age_b"]] if pair["age_a"] is not None else [pair["group_a"], pair["group_b"]],
            "onset_days_apart": pair["onset_diff"],
            "shared_batch": bool(pair["shared_batch"]),
            "same_initials": bool(pair["same_initials"]),
            "parts": {name.removeprefix("s_"): round(float(pair[name]), 4) for name in PARTS},
        }
    return pairs


def common_prefix(a: str, b: str) -> str:
    """The jurisdiction holding both divisions: the shared province/city/district part of the codes."""
    for length in (6, 4, 2):
        if a[:length] == b[:length]:
            return a[:length]
    return ""


@transaction.atomic
def find_duplicates(
    reports: QuerySet | None = None, *, actor=None, config: CaseworkConfig | None = None
) -> DedupeResult:
    """Score ``reports`` (default: all that count), store new pairs, refresh pending ones; one audit record."""
    from .config import active_config

    config = config or active_config()
    reports = counted_reports(AdrReport.objects.all() if reports is None else reports)
    pairs = score_pairs(reports, config)
    existing = {}
    firsts = sorted({p["a"] for p in pairs})
    for start in range(0, len(firsts), CHUNK):
        for candidate in DuplicateCandidate.objects.filter(report_a_id__in=firsts[start : start + CHUNK]):
            existing[(candidate.report_a_id, candidate.report_b_id)] = candidate
    to_create, to_refresh, reviewed = [], [], 0
    digest = hashlib.sha256()
    for pair in pairs:
        score = round(float(pair["score"]), 4)
        digest.update(f"{pair['a']}-{pair['b']}:{score};".encode())
        candidate = existing.get((pair["a"], pair["b"]))
        if candidate is None:
            to_create.append(
                DuplicateCandidate(
                    report_a_id=pair["a"],
                    report_b_id=pair["b"],
                    division_code=common_prefix(pair["division_a"], pair["division_b"]),
                    score=score,
                    evidence=pair["evidence"],
                )
            )
        elif candidate.status == CandidateStatus.PENDING:
            if candidate.score != score or candidate.evidence != audit.jsonable(pair["evidence"]):
                candidate.score, candidate.evidence = score, pair["evidence"]
                to_refresh.append(candidate)
        else:
            reviewed += 1
    DuplicateCandidate.objects.bulk_create(to_create, batch_size=2000)
    DuplicateCandidate.objects.bulk_update(to_refresh, ["score", "evidence"], batch_size=2000)
    result = DedupeResult(reports.count(), len(pairs), len(to_create), len(to_refresh), reviewed)
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="casework.duplicatecandidate",
        object_repr=f"重复报告识别：新增 {result.created} 对",
        division_code=access.jurisdiction_prefix(actor) or "" if actor is not None else "",
        after={**result.__dict__, "config_version": config.version, "content_sha256": digest.hexdigest()},
    )
    return result


# --- review 审核 ---


def _check(actor, candidate: DuplicateCandidate) -> None:
    if actor is None:
        return
    if not access.has_perm(actor, DuplicateCandidate, access.CHANGE) or not access.can_act_on(
        actor, candidate, access.CHANGE
    ):
        raise PermissionDenied("无权审核该疑似重复报告")


def _lock(candidate: DuplicateCandidate) -> DuplicateCandidate:
    return DuplicateCandidate.objects.select_for_update().select_related("report_a", "report_b").get(pk=candidate.pk)


def _finish(candidate: DuplicateCandidate, before: dict, *, actor, **changes) -> DuplicateCandidate:
    for name, value in changes.items():
        setattr(candidate, name, value)
    candidate.reviewer = actor
    candidate.reviewed_at = timezone.now()
    candidate.save()
    audit.record_change(
        candidate, actor=actor, action=AuditAction.UPDATE, before=before, after=audit.snapshot(candidate)
    )
    return candidate


@transaction.atomic
def merge(candidate: DuplicateCandidate, *, actor, keep: AdrReport | None = None) -> DuplicateCandidate:
    """合并: the report not kept becomes ``duplicate_of`` the kept one (default: the earlier entered)."""
    _check(actor, candidate)
    candidate = _lock(candidate)
    if candidate.status != CandidateStatus.PENDING:
        raise ValidationError(f"该组已{candidate.get_status_display()}，不能合并")
    kept = keep or candidate.report_a
    if kept.pk not in (candidate.report_a_id, candidate.report_b_id):
        raise ValidationError("保留的报告不属于该组")
    duplicate = candidate.report_b if kept.pk == candidate.report_a_id else candidate.report_a
    for report in (kept, duplicate):
        if report.duplicate_of_id is not None:
            raise ValidationError(f"报告 {report.report_number} 已被合并到其他报告，请先处理")
    before = audit.snapshot(candidate)
    services.update_record(duplicate, actor=actor, duplicate_of=kept)
    return _finish(candidate, before, actor=actor, status=CandidateStatus.MERGED, kept=kept)


@transaction.atomic
def unmerge(candidate: DuplicateCandidate, *, actor) -> DuplicateCandidate:
    """撤销合并: the merged report counts again and the pair returns to the queue."""
    _check(actor, candidate)
    candidate = _lock(candidate)
    if candidate.status != CandidateStatus.MERGED:
        raise ValidationError("该组未合并，无需撤销")
    duplicate = candidate.duplicate
    before = audit.snapshot(candidate)
    if duplicate.duplicate_of_id == candidate.kept_id:
        services.update_record(duplicate, actor=actor, duplicate_of=None)
    return _finish(candidate, before, actor=actor, status=CandidateStatus.PENDING, kept=None)


@transaction.atomic
def dismiss(candidate: DuplicateCandidate, *, actor) -> DuplicateCandidate:
    """非重复: the pair leaves the queue and is never proposed again."""
    _check(actor, candidate)
    candidate = _lock(candidate)
    if candidate.status != CandidateStatus.PENDING:
        raise ValidationError(f"该组已{candidate.get_status_display()}")
    before = audit.snapshot(candidate)
    return _finish(candidate, before, actor=actor, status=CandidateStatus.DISMISSED)
