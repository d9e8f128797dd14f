"""Risk services 风险服务: the active parameter version, recomputation, backtesting."""

import datetime
import itertools
import json
from dataclasses import dataclass

import numpy as np
from django.db import connection, models, transaction
from django.utils import timezone

from yaojian.core import audit
from yaojian.core.choices import AuditAction
from yaojian.core.services import publish_version
from yaojian.inspections.models import Defect
from yaojian.registry.models import Product
from yaojian.sampling.models import SamplingTest

from . import engine
from .defaults import REVISIONS, add_revision
from .models import LevelChange, ProductRiskAssessment, RiskAssessment, RiskModelConfig

SCORE_TOLERANCE = 1e-6


def active_config() -> RiskModelConfig:
    config = RiskModelConfig.objects.filter(is_active=True).order_by("-version").first()
    if config is None:
        # An emptied table (the migrations store these versions; a flushed test database does not keep them).
        for revision in REVISIONS:
            config = add_revision(RiskModelConfig, revision)
    return config


def publish_config(parameters: dict, *, actor, note: str = "") -> RiskModelConfig:
    """Store a new parameter version and make it the active one; audited."""
    current = active_config()
    return publish_version(current, {**current.parameters, **parameters}, actor=actor, note=note)


def _ordinal(day: datetime.date | None) -> int:
    return day.toordinal() if day else 0


def _date(ordinal) -> datetime.date | None:
    return datetime.date.fromordinal(int(ordinal)) if ordinal else None


@dataclass
class RecomputeResult:
    scored: int
    changed: int
    level_changes: int
    config_version: int
    products_scored: int = 0
    products_changed: int = 0


def _current(model, owner_field: str, ids: np.ndarray, subset: bool, *extra: str) -> dict[int, tuple]:
    """The stored current assessments as owner id → (pk, score, level, config_version, *extra) tuples."""
    rows = engine.restrict(model.objects.filter(is_current=True), owner_field, ids, subset).values_list(
        owner_field, "pk", "score", "level", "config_version", *extra
    )
    return {row[0]: row[1:] for row in rows}


def _moved(current: dict, ids: np.ndarray, score: np.ndarray, level: np.ndarray, version: int):
    """Rows whose score, level or configuration version differ from the stored current assessment.

    Returns the mask and the previous levels (0 where there was no assessment yet).
    """
    keys = ids.tolist()
    prev_score = np.array([current[k][1] if k in current else np.nan for k in keys], dtype=float)
    prev_level = np.array([current[k][2] if k in current else 0 for k in keys], dtype=int)
    prev_version = np.array([current[k][3] if k in current else 0 for k in keys], dtype=int)
    moved = (
        np.isnan(prev_score)
        | (np.abs(np.nan_to_num(prev_score) - score) > SCORE_TOLERANCE)
        | (prev_level != level)
        | (prev_version != version)
    )
    return moved, prev_level


@transaction.atomic
def recompute(*, actor=None, as_of: datetime.date | None = None, enterprise_ids=None) -> RecomputeResult:
    """Score enterprises and their products; store a new assessment where a score or level moved.

    Full (nightly) when ``enterprise_ids`` is None, incremental otherwise (the enterprises and
    the products they hold or make). Level changes
    are logged with the factors behind them; one audit record covers the run.
    """
    as_of = as_of or timezone.localdate()
    config = active_config()
    table = engine.compute(as_of, config.parameters, config.version, enterprise_ids)
    current = _current(
        RiskAssessment, "enterprise_id", table.enterprise_ids, enterprise_ids is not None, "last_inspected_on"
    )
    moved, prev_level = _moved(current, table.enterprise_ids, table.score, table.level, config.version)
    prev_last = np.array([_ordinal(current[e][4]) if e in current else -1 for e in table.enterprise_ids.tolist()])
    changed = moved | (prev_last != table.last_inspected)
    idx = np.flatnonzero(changed)

    def assessment(i: int) -> dict:
        return dict(
            enterprise_id=int(table.enterprise_ids[i]),
            division_code=table.division_codes[i],
            as_of=as_of,
            config_version=config.version,
            intrinsic_score=float(table.intrinsic[i]),
            compliance_score=float(table.compliance[i]),
            score=float(table.score[i]),
            level=int(table.level[i]),
            inspection_interval_months=int(table.interval_months[i]),
            factors=engine.explain(table, i),
            last_inspected_on=_date(table.last_inspected[i]),
            next_inspection_due=_date(table.next_due[i]),
        )

    def level_change(i: int) -> LevelChange:
        top = "；".join(f"{f['label']}（{f['detail']}）" for f in engine.explain(table, i, top=3))
        return LevelChange(
            enterprise_id=int(table.enterprise_ids[i]),
            division_code=table.division_codes[i],
            changed_on=as_of,
            from_level=int(prev_level[i]) or None,
            to_level=int(table.level[i]),
            reason=f"综合风险 {table.score[i]:.2f}；主要因素：{top}",
            config_version=config.version,
        )

    stale = [current[e][0] for e in table.enterprise_ids[idx].tolist() if e in current]
    written = _replace_current(RiskAssessment, stale, (assessment(i) for i in idx.tolist()))
    moved_level = idx[prev_level[idx] != table.level[idx]]
    _write_chunks(LevelChange, (level_change(i) for i in moved_level.tolist()))
    products_scored = products_changed = 0
    if "product_risk" in config.parameters:  # versions before the product model score enterprises only
        products_scored, products_changed = _recompute_products(table, as_of, config, enterprise_ids)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="risk.riskassessment",
        object_repr=f"风险重算 {as_of}",
        after={
            "as_of": as_of,
            "scored": len(table),
            "changed": written,
            "level_changes": len(moved_level),
            "config_version": config.version,
            "incremental": enterprise_ids is not None,
            "products_scored": products_scored,
            "products_changed": products_changed,
        },
    )
    return RecomputeResult(len(table), written, len(moved_level), config.version, products_scored, products_changed)


def _recompute_products(table: engine.ScoreTable, as_of, config, enterprise_ids) -> tuple[int, int]:
    """Score products (all, or those of the given enterprises) and store the ones that moved."""
    subset = enterprise_ids is not None
    product_ids = engine.products_of(enterprise_ids) if subset else None
    ent_ids, compliance = table.enterprise_ids, table.compliance
    if subset:
        # A product's holder or manufacturer may lie outside the rescored enterprises: score it too.
        pairs = Product.objects.filter(pk__in=product_ids).values_list("holder_id", "manufacturer_id")
        partners = {e for pair in pairs for e in pair if e is not None}
        missing = sorted(partners - set(ent_ids.tolist()))
        if missing:
            extra = engine.compute(as_of, config.parameters, config.version, missing)
            ent_ids = np.concatenate([ent_ids, extra.enterprise_ids])
            compliance = np.concatenate([compliance, extra.compliance])
            order = np.argsort(ent_ids, kind="stable")
            ent_ids, compliance = ent_ids[order], compliance[order]
    products = engine.compute_products(as_of, config.parameters, config.version, (ent_ids, compliance), product_ids)
    current = _current(ProductRiskAssessment, "product_id", products.product_ids, subset)
    moved, _ = _moved(current, products.product_ids, products.score, products.level, config.version)
    idx = np.flatnonzero(moved)

    def assessment(i: int) -> dict:
        return dict(
            product_id=int(products.product_ids[i]),
            division_code=products.division_codes[i],
            as_of=as_of,
            config_version=config.version,
            intrinsic_score=float(products.intrinsic[i]),
            compliance_score=float(products.compliance[i]),
            score=float(products.score[i]),
            level=int(products.level[i]),
            factors=engine.explain(products, i),
        )

    stale = [current[p][0] for p in products.product_ids[idx].tolist() if p in current]
    return len(products), _replace_current(ProductRiskAssessment, stale, (assessment(i) for i in idx.tolist()))


# Rows per statement when writing assessments: bounded memory and query parameters at province scale.
WRITE_CHUNK = 5000


def _write_chunks(model, rows) -> int:
    """``bulk_create`` an iterable of unsaved rows, a chunk at a time; returns how many."""
    rows, written = iter(rows), 0
    while chunk := list(itertools.islice(rows, WRITE_CHUNK)):
        model.objects.bulk_create(chunk)
        written += len(chunk)
    return written


def _insert(model, rows) -> int:
    """INSERT an iterable of field-value dicts (all with the same keys) with one prepared statement per chunk.

    ``bulk_create`` on SQLite splits into statements of 999 parameters (about 80 rows here) and prepares
    every value through its field; at 200,000 assessments that costs more than the scoring itself. The
    values here are plain numbers, strings, dates and the factor list, adapted once per column kind.
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    names = [*first, "is_current"]
    fields = [model._meta.get_field(name) for name in names]
    adapt = []
    for f in fields:
        if isinstance(f, models.JSONField):
            adapt.append(json.dumps)
        elif isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField):
            adapt.append(connection.ops.adapt_datefield_value)
        else:
            adapt.append(None)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in [*fields, model._meta.get_field("computed_at")])
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "
        f"VALUES ({', '.join(['%s'] * (len(fields) + 1))})"
    )

    def values(row: dict) -> tuple:
        row = {**row, "is_current": True}
        return (*(a(row[n]) if a else row[n] for n, a in zip(names, adapt, strict=True)), now)

    rows, written = itertools.chain([first], rows), 0
    with connection.cursor() as cursor:
        while chunk := [values(row) for row in itertools.islice(rows, WRITE_CHUNK)]:
            cursor.executemany(sql, chunk)
            written += len(chunk)
    return written


def _replace_current(model, stale: list[int], rows) -> int:
    """Retire the current assessments ``stale`` (primary keys) and store ``rows`` as the new current ones."""
    for start in range(0, len(stale), WRITE_CHUNK):
        model.objects.filter(pk__in=stale[start : start + WRITE_CHUNK]).update(is_current=False)
    return _insert(model, rows)


@dataclass
class BacktestResult:
    cutoff: datetime.date
    horizon_days: int
    enterprises: int
    positives: int
    auc: float
    precision_at_10: float
    base_rate: float


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC AUC by the Mann–Whitney rank statistic (ties get average ranks)."""
    from scipy.stats import rankdata

    labels = labels.astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def precision_at(scores: np.ndarray, labels: np.ndarray, fraction: float = 0.1) -> float:
    k = max(1, int(round(len(scores) * fraction)))
    top = np.argsort(-scores, kind="stable")[:k]
    return float(labels[top].mean())


def future_failures(enterprise_ids: np.ndarray, start: datetime.date, end: datetime.date) -> np.ndarray:
    """Enterprises with a critical defect or a failed sampling test in (start, end]."""
    failing = set(
        Defect.objects.filter(
            grade="critical", inspection__inspected_on__gt=start, inspection__inspected_on__lte=end
        ).values_list("inspection__enterprise_id", flat=True)
    ) | set(
        SamplingTest.objects.filter(result="fail", sampled_on__gt=start, sampled_on__lte=end).values_list(
            "enterprise_id", flat=True
        )
    )
    return np.isin(enterprise_ids, np.fromiter(failing, dtype=np.int64, count=len(failing)))


def _metrics(cutoff, horizon_days, scores: np.ndarray, outcome: np.ndarray) -> BacktestResult:
    return BacktestResult(
        cutoff=cutoff,
        horizon_days=horizon_days,
        enterprises=len(scores),
        positives=int(outcome.sum()),
        auc=roc_auc(scores, outcome),
        precision_at_10=precision_at(scores, outcome, 0.1) if len(scores) else float("nan"),
        base_rate=float(outcome.mean()) if len(scores) else float("nan"),
    )


def backtest(cutoff: datetime.date, horizon_days: int = 365, labels: dict[int, bool] | None = None) -> BacktestResult:
    """Score with data up to ``cutoff`` and measure how well the score ranks the next period's failures.

    ``labels`` (enterprise id → outcome) replaces the observed outcome, e.g. a planted ground truth.
    """
    config = active_config()
    table = engine.compute(cutoff, config.parameters, config.version)
    if labels is None:
        outcome = future_failures(table.enterprise_ids, cutoff, cutoff + datetime.timedelta(days=horizon_days))
    else:
        outcome = np.array([labels.get(int(e), False) for e in table.enterprise_ids], dtype=bool)
    return _metrics(cutoff, horizon_days, table.score, outcome)


def backtest_products(cutoff: datetime.date, horizon_days: int = 365) -> BacktestResult:
    """Product scores with data up to ``cutoff`` against the next period's failed sampling tests of each
    product and its fatal ADR reports (产品风险回测); ``enterprises`` in the result counts products."""
    config = active_config()
    table = engine.compute(cutoff, config.parameters, config.version)
    products = engine.compute_products(
        cutoff, config.parameters, config.version, (table.enterprise_ids, table.compliance)
    )
    end = cutoff + datetime.timedelta(days=horizon_days)
    failing = set(
        SamplingTest.objects.filter(result="fail", sampled_on__gt=cutoff, sampled_on__lte=end).values_list(
            "product_id", flat=True
        )
    ) | set(
        engine.counted_adr_reports()
        .filter(seriousness="death", reported_on__gt=cutoff, reported_on__lte=end)
        .values_list("product_id", flat=True)
    )
    failing.discard(None)
    outcome = np.isin(products.product_ids, np.fromiter(failing, dtype=np.int64, count=len(failing)))
    return _metrics(cutoff, horizon_days, products.score, outcome)
