"""Signal runs and the review workflow 信号检测与处置 — the write path of this app.

``run_signals`` builds the case table from the database (``dataset``), computes every measure with
``disproportionality.analyse``, stores one ``PairResult`` per pair in bulk, turns pairs that newly
meet the run's criteria into ``Signal`` rows, and writes one audit record for the run.
``transition`` moves a signal through its workflow with an audit record per step.
"""

from __future__ import annotations

import datetime
import hashlib
import time

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Subquery

from yaojian.core import access, audit
from yaojian.core.choices import AuditAction

from . import dataset
from .disproportionality import PairCounts, Prior, SignalCriteria, analyse, eb_scores, ratio_measures
from .models import TRANSITIONS, PairResult, RunStatus, Signal, SignalEvent, SignalRun, SignalStatus

METHODS = ("PRR", "ROR", "IC", "EBGM")
# Defaults from the issue: PRR ≥ 2 with χ² ≥ 4 and N ≥ 3; ROR025 > 1; IC025 > 0; EB05 ≥ 2. A pair is a
# signal when at least ``min_methods`` of ``methods`` flag it and it has at least ``min_n`` reports.
# Three of four by default: on the demo district (13,651 pairs) any single method flags 442 pairs, nearly
# all chance pairs of N = 3 with E ≈ 0.1; three of four flag 18, the planted true signals among them.
DEFAULT_CRITERIA = {
    "prr": 2.0,
    "chi2": 4.0,
    "n": 3,
    "ror025": 1.0,
    "ic025": 0.0,
    "eb05": 2.0,
    "methods": list(METHODS),
    "min_methods": 3,
    "min_n": 3,
}
BULK = 2000


class SignalRunError(ValueError):
    """A run that cannot be computed (no reports in scope, prior not estimable …)."""


def resolve_criteria(criteria: dict | None) -> dict:
    """The defaults overlaid with ``criteria``; unknown keys and impossible values are refused."""
    merged = {**DEFAULT_CRITERIA, **(criteria or {})}
    unknown = set(merged) - set(DEFAULT_CRITERIA)
    if unknown:
        raise SignalRunError(f"未知的判定标准 {', '.join(sorted(unknown))}")
    methods = [m for m in METHODS if m in merged["methods"]]
    if not methods or set(merged["methods"]) - set(METHODS):
        raise SignalRunError(f"判定方法应取自 {', '.join(METHODS)}")
    merged["methods"] = methods
    if "min_methods" not in (criteria or {}):  # fewer methods chosen: the default asks for all of them at most
        merged["min_methods"] = min(merged["min_methods"], len(methods))
    for key in ("n", "min_methods", "min_n"):
        merged[key] = int(merged[key])
    for key in ("prr", "chi2", "ror025", "ic025", "eb05"):
        merged[key] = float(merged[key])
    if not 1 <= merged["min_methods"] <= len(methods):
        raise SignalRunError(f"至少满足的方法数应在 1 到 {len(methods)} 之间")
    return merged


def parse_criteria(items: list[str]) -> dict:
    """KEY=VALUE strings (``methods=PRR,EBGM``) into a criteria dict; checked by ``resolve_criteria``."""
    criteria = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in DEFAULT_CRITERIA:
            raise SignalRunError(f"无法识别的判定标准 {item!r}，KEY 取 {', '.join(DEFAULT_CRITERIA)}")
        if key == "methods":
            criteria[key] = [m.strip().upper() for m in raw.split(",") if m.strip()]
        else:
            try:
                criteria[key] = float(raw)
            except ValueError:
                raise SignalRunError(f"判定标准 {key} 的取值 {raw!r} 不是数字") from None
    return criteria


def meets_criteria(criteria: dict, n: np.ndarray, flags: dict[str, np.ndarray]) -> np.ndarray:
    votes = np.sum([flags[m] for m in criteria["methods"]], axis=0)
    return (n >= criteria["min_n"]) & (votes >= criteria["min_methods"])


def _db_floats(values: np.ndarray) -> list:
    """Floats for the database, non-finite ones as None (NaN does not survive SQLite)."""
    out = values.astype(object)
    out[~np.isfinite(values)] = None
    return out.tolist()


def run_signals(
    actor,
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    division_prefix: str,
    category: str | None = None,
    strata=(),
    criteria: dict | None = None,
) -> SignalRun:
    """Detect signals over the reports of ``date_from``–``date_to`` in the scope; returns the stored run.

    A run that cannot be computed is stored with status 失败 and its reason, and ``SignalRunError``
    is raised. ``actor`` None is a system run (command line) with nationwide authority.
    """
    if actor is not None:
        prefix = access.jurisdiction_prefix(actor)
        if not access.has_perm(actor, SignalRun, access.ADD):
            raise PermissionDenied("无此操作权限")
        if prefix is not None and not division_prefix.startswith(prefix):
            raise PermissionDenied("检测范围超出辖区")
    if date_from > date_to:
        raise SignalRunError("起始日期晚于截止日期")
    config = resolve_criteria(criteria)
    unknown = set(strata) - set(dataset.STRATA)
    if unknown:
        raise SignalRunError(f"未知的分层 {', '.join(sorted(unknown))}，可选 {', '.join(dataset.STRATA)}")
    run = SignalRun(
        created_by=actor,
        division_code=division_prefix,
        date_from=date_from,
        date_to=date_to,
        category=category or "",
        strata=list(strata),
        criteria=config,
    )
    started = time.perf_counter()
    try:
        with transaction.atomic():
            _detect(run, config, started)
            _audit_run(run, actor)
    except SignalRunError as exc:
        with transaction.atomic():
            run.pk = None
            run.status, run.error = RunStatus.FAILED, str(exc)
            run.duration_s = round(time.perf_counter() - started, 3)
            run.save()
            _audit_run(run, actor)
        raise
    return run


def _detect(run: SignalRun, config: dict, started: float) -> None:
    table = dataset.build_table(
        date_from=run.date_from,
        date_to=run.date_to,
        division_prefix=run.division_code,
        category=run.category or None,
        strata=run.strata,
    )
    if table is None:
        raise SignalRunError("所选期间与范围内没有可用于检测的报告（怀疑/相互作用药品及其不良反应）")
    thresholds = SignalCriteria(**{k: config[k] for k in SignalCriteria.KEYS})
    try:
        analysis = analyse(table.report, table.drug, table.event, table.stratum, criteria=thresholds)
    except ValueError as exc:
        raise SignalRunError(f"无法完成计算：{exc}") from exc
    c = analysis.counts
    meets = meets_criteria(config, c.n, analysis.flags)
    run.prior = analysis.prior.as_dict()
    run.n_reports, run.n_rows, run.n_pairs = c.n_reports, table.n_rows, int(c.n.size)
    run.n_flagged = int(meets.sum())
    run.save()
    _store_results(run, table, analysis, meets)
    new = _update_signals(run)
    run.n_new_signals = new
    run.duration_s = round(time.perf_counter() - started, 3)
    run.save(update_fields=["n_new_signals", "duration_s"])


def _pair_reports(table: dataset.CaseTable, counts: PairCounts) -> list[np.ndarray]:
    """AdrReport pks behind each pair (the case series), aligned with ``counts``."""
    ne, nr = int(table.event.max()) + 1, int(table.report.max()) + 1
    units = np.unique((table.drug * ne + table.event) * nr + table.report)
    pair_of_unit = units // nr
    # counts' pairs are in ascending pair-code order, as are the units: split at each pair's first unit.
    bounds = np.searchsorted(pair_of_unit, counts.drug * ne + counts.event)
    return np.split(table.report_ids[units % nr], bounds[1:])


def _store_results(run, table, analysis, meets) -> None:
    c, m, eb = analysis.counts, analysis.ratios, analysis.eb
    # Flags as text through a lookup on the bit pattern (2^4 combinations), not per pair.
    names = list(analysis.flags)
    bits = np.sum([analysis.flags[k].astype(np.int64) << i for i, k in enumerate(names)], axis=0)
    patterns = np.array([";".join(k for i, k in enumerate(names) if p >> i & 1) for p in range(1 << len(names))])
    flag_text = patterns[bits].tolist()
    series = cumulative_series(table, c.drug[meets], c.event[meets], analysis.prior)
    series_of = dict(zip(np.flatnonzero(meets).tolist(), series, strict=True))
    reports = _pair_reports(table, c)
    measures = {
        "expected": c.expected,
        "prr": m.prr,
        "prr_chi2": m.prr_chi2,
        "prr_lo": m.prr_lo,
        "prr_hi": m.prr_hi,
        "ror": m.ror,
        "ror_lo": m.ror_lo,
        "ror_hi": m.ror_hi,
        "ic": m.ic,
        "ic025": m.ic025,
        "ic975": m.ic975,
        "ebgm": eb.ebgm,
        "eb05": eb.eb05,
        "eb95": eb.eb95,
    }
    k = int(c.n.size)
    _insert_results(
        {
            "run": [run.pk] * k,
            "division_code": [run.division_code] * k,
            "drug_key": table.drug_keys[c.drug].tolist(),
            "drug_label": table.drug_labels[c.drug].tolist(),
            "product": [pk or None for pk in table.drug_product[c.drug].tolist()],
            "event_key": table.event_keys[c.event].tolist(),
            "event_label": table.event_labels[c.event].tolist(),
            "term": [pk or None for pk in table.event_term[c.event].tolist()],
            "n": c.n.tolist(),
            "flags": flag_text,
            "meets_criteria": meets.tolist(),
            "report_ids": [ids.tolist() for ids in reports],
            "series": [series_of.get(i) for i in range(k)],
            **{name: _db_floats(array) for name, array in measures.items()},
        }
    )


def _insert_results(columns: dict[str, list]) -> None:
    """One INSERT through ``executemany`` per block of pairs.

    Django's ``bulk_create`` would split the rows into statements of at most 999 parameters on SQLite
    (33 pairs each); ``executemany`` of one prepared INSERT writes them at driver speed on both databases.
    JSON values are adapted as JSONField adapts them (text on SQLite, jsonb on PostgreSQL).
    """
    fields = [PairResult._meta.get_field(name) for name in columns]
    adapt = connection.ops.adapt_json_value  # what JSONField does, without its per-value layers
    for field in fields:
        if isinstance(field, models.JSONField):
            columns[field.name] = [None if v is None else adapt(v, None) for v in columns[field.name]]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(PairResult._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    rows = list(zip(*columns.values(), strict=True))
    with connection.cursor() as cursor:
        for lo in range(0, len(rows), BULK):
            cursor.executemany(sql, rows[lo : lo + BULK])


def _update_signals(run: SignalRun) -> int:
    """Pairs meeting the criteria: signalled ones point at this run (one UPDATE), new ones become signals."""
    flagged = run.results.filter(meets_criteria=True)
    same_pair = flagged.filter(drug_key=OuterRef("drug_key"), event_key=OuterRef("event_key"))
    scope = Signal.objects.filter(division_code=run.division_code)
    scope.filter(Exists(same_pair)).update(latest_run=run, latest_result=Subquery(same_pair.values("pk")[:1]))
    existing = set(scope.values_list("drug_key", "event_key"))
    fresh = [
        Signal(
            division_code=run.division_code,
            drug_key=r.drug_key,
            drug_label=r.drug_label,
            product_id=r.product_id,
            event_key=r.event_key,
            event_label=r.event_label,
            term_id=r.term_id,
            first_run=run,
            latest_run=run,
            latest_result=r,
        )
        for r in flagged.defer("report_ids", "series")
        if (r.drug_key, r.event_key) not in existing
    ]
    Signal.objects.bulk_create(fresh, batch_size=BULK)
    return len(fresh)


def _audit_run(run: SignalRun, actor) -> None:
    """One audit record per run, with a SHA-256 over the pair results (keys, N, flags)."""
    digest = hashlib.sha256()
    for key, event, n, flags in (
        run.results.order_by("drug_key", "event_key")
        .values_list("drug_key", "event_key", "n", "flags")
        .iterator(chunk_size=BULK)
    ):
        digest.update(f"{key}\t{event}\t{n}\t{flags}\n".encode())
    after = {
        "date_from": run.date_from,
        "date_to": run.date_to,
        "category": run.category,
        "strata": run.strata,
        "criteria": run.criteria,
        "prior": run.prior,
        "status": run.status,
        "error": run.error,
        "n_reports": run.n_reports,
        "n_pairs": run.n_pairs,
        "n_flagged": run.n_flagged,
        "n_new_signals": run.n_new_signals,
        "results_sha256": digest.hexdigest(),
    }
    audit.record_change(run, actor=actor, action=AuditAction.CREATE, after=after)


# ---------------------------------------------------------------------------------------------------
# Quarterly cumulative measures 季度累计趋势
# ---------------------------------------------------------------------------------------------------


def _cumulative(units_code: np.ndarray, report: np.ndarray, quarter_of_report: np.ndarray, size: int, nq: int):
    """Distinct (code, report) units counted per code and quarter, cumulated over quarters → (size, nq)."""
    counts = np.bincount(units_code * nq + quarter_of_report[report], minlength=size * nq).reshape(size, nq)
    return np.cumsum(counts, axis=1)


def cumulative_series(table: dataset.CaseTable, drugs: np.ndarray, events: np.ndarray, prior: Prior) -> list[dict]:
    """N, E, IC (IC025–IC975) and EBGM (EB05–EB95) at each quarter's end, on the data up to it.

    All pairs at once: distinct-report counts per quarter by ``bincount``, cumulated with ``cumsum``
    (a report falls in one quarter, so cumulated distinct counts are exact); E stratified as in the
    run. EBGM uses the run's fitted prior throughout (the prior is not refitted per quarter).
    Quarters before the pair's first report have no value (None).
    """
    k, nq = drugs.size, len(table.quarters)
    if k == 0:
        return []
    nr = int(table.report.max()) + 1
    q_of_report = table.report_quarter
    drug_set, drug_idx = np.unique(drugs, return_inverse=True)
    event_set, event_idx = np.unique(events, return_inverse=True)
    rows_d = np.searchsorted(drug_set, table.drug).clip(max=drug_set.size - 1)
    rows_e = np.searchsorted(event_set, table.event).clip(max=event_set.size - 1)
    in_d, in_e = drug_set[rows_d] == table.drug, event_set[rows_e] == table.event

    def units(code, keep, size, stratum=None):
        span = 1 if stratum is None else int(stratum.max()) + 1
        code = code[keep] * span + (0 if stratum is None else stratum[keep])
        distinct = np.unique(code * nr + table.report[keep])
        return _cumulative(distinct // nr, distinct % nr, q_of_report, size * span, nq)

    # N per pair: rows whose (drug, event) is one of the pairs, found by binary search on the pair codes.
    pair_codes = drug_idx * event_set.size + event_idx
    order = np.argsort(pair_codes)
    sorted_codes = pair_codes[order]
    row_codes = rows_d * event_set.size + rows_e
    pos = np.searchsorted(sorted_codes, row_codes).clip(max=k - 1)
    hit = in_d & in_e & (sorted_codes[pos] == row_codes)
    n = units(order[pos], hit, k)

    all_rows = np.ones(table.report.size, dtype=bool)
    n_reports = units(np.zeros(table.report.size, dtype=np.int64), all_rows, 1)[0]
    n_drug = units(rows_d, in_d, drug_set.size)[drug_idx]
    n_event = units(rows_e, in_e, event_set.size)[event_idx]
    if table.stratum is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = n_drug * (n_event / n_reports)
    else:
        s = table.stratum
        ns = int(s.max()) + 1
        n_s = units(np.zeros(s.size, dtype=np.int64), all_rows, 1, s).reshape(ns, nq).astype(float)
        share = np.divide(1.0, n_s, out=np.zeros_like(n_s), where=n_s > 0)
        d_s = units(rows_d, in_d, drug_set.size, s).reshape(drug_set.size, ns, nq)[drug_idx] * share
        e_s = units(rows_e, in_e, event_set.size, s).reshape(event_set.size, ns, nq)[event_idx]
        expected = np.einsum("ksq,ksq->kq", d_s, e_s)

    fields = ("n", "expected", "ic", "ic025", "ic975", "ebgm", "eb05", "eb95")
    out = {name: np.full((k, nq), np.nan) for name in fields}
    for q in range(nq):  # a loop over the few quarters; each step is vectorised over the pairs
        valid = np.flatnonzero((n[:, q] > 0) & (expected[:, q] > 0))
        if valid.size == 0:
            continue
        counts = PairCounts(
            drugs[valid],
            events[valid],
            n[valid, q],
            n_drug[valid, q],
            n_event[valid, q],
            int(n_reports[q]),
            expected[valid, q],
        )
        m = ratio_measures(counts)
        eb = eb_scores(prior, counts.n, counts.expected)
        for name, values in (
            ("n", counts.n),
            ("expected", counts.expected),
            ("ic", m.ic),
            ("ic025", m.ic025),
            ("ic975", m.ic975),
            ("ebgm", eb.ebgm),
            ("eb05", eb.eb05),
            ("eb95", eb.eb95),
        ):
            out[name][valid, q] = values
    lists = {name: _db_floats(np.round(values, 6)) for name, values in out.items()}  # nested: pair × quarter
    return [{"quarters": table.quarters, **{name: lists[name][i] for name in fields}} for i in range(k)]


# ---------------------------------------------------------------------------------------------------
# Workflow 处置流程
# ---------------------------------------------------------------------------------------------------


def transition(signal: Signal, *, actor, to_status: str = "", assignee=None, note: str = "") -> Signal:
    """Move ``signal`` to ``to_status`` (if given), assign it, add a note; refuses illegal moves.

    An empty ``to_status`` with an assignee or a note records just that. One audit record per call.
    """
    if actor is not None and not (
        access.has_perm(actor, Signal, access.CHANGE) and access.can_act_on(actor, signal, access.CHANGE)
    ):
        raise PermissionDenied("无此操作权限")
    with transaction.atomic():
        signal = Signal.objects.select_for_update().get(pk=signal.pk)
        before = audit.snapshot(signal)
        if to_status and to_status not in TRANSITIONS.get(signal.status, ()):
            allowed = "、".join(SignalStatus(s).label for s in TRANSITIONS.get(signal.status, ())) or "无"
            raise ValueError(
                f"不能从“{signal.get_status_display()}”转为“{SignalStatus(to_status).label}”（可转为：{allowed}）"
            )
        if not (to_status or assignee or note.strip()):
            raise ValueError("请选择新状态、指派负责人或填写说明")
        from_status = signal.status
        if to_status:
            signal.status = to_status
        if assignee is not None:
            signal.assignee = assignee
        signal.save()
        SignalEvent.objects.create(
            signal=signal,
            actor=actor,
            from_status=from_status,
            to_status=to_status or from_status,
            assignee=assignee,
            note=note.strip(),
        )
        audit.record_change(
            signal,
            actor=actor,
            action=AuditAction.UPDATE,
            before=before,
            after={**audit.snapshot(signal), "note": note.strip()},
        )
    return signal
