"""Action rules 处置规则 as data, evaluated by one set-based engine.

A rule is a list of conditions (named predicates with parameters, all must hold) and an
action. Each predicate answers for every enterprise at once — one grouped query and array
arithmetic — with a boolean array and an evidence function, so evaluating a province is a
handful of queries. Evidence text is produced only for the decisions that are logged.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Q
from django.db.models.functions import ExtractYear

from yaojian.inspections.models import Defect
from yaojian.registry.models import Product
from yaojian.sampling.models import SamplingTest

from .engine import _Aligner, counted_adr_reports, latest_credit_grades, restrict


@dataclass
class Outcome:
    ok: np.ndarray
    evidence: Callable[[int], str]


PREDICATES: dict[str, Callable[..., Outcome]] = {}


def predicate(name: str):
    def register(func):
        PREDICATES[name] = func
        return func

    return register


def _counts(ids: np.ndarray, rows) -> np.ndarray:
    """Sum (enterprise_id, n) rows onto the positions of ``ids``."""
    return _Aligner(ids).sum([r[0] for r in rows], [r[1] for r in rows])


@predicate("sampling_passed_consecutive_years")
def sampling_passed_consecutive_years(ids, as_of, subset, *, years: int) -> Outcome:
    """Sampled in each of the last ``years`` full calendar years and never failed (连续N年抽检合格)."""
    first, last = as_of.year - years, as_of.year - 1
    rows = list(
        restrict(SamplingTest.objects.exclude(result="pending"), "enterprise_id", ids, subset)
        .filter(sampled_on__year__gte=first, sampled_on__year__lte=last)
        .annotate(_year=ExtractYear("sampled_on"))
        .values("enterprise_id", "_year")
        .annotate(_fails=Count("pk", filter=Q(result="fail")))
        .values_list("enterprise_id", "_fails")
        .order_by()
    )
    years_sampled = _counts(ids, [(e, 1) for e, _ in rows])
    years_failed = _counts(ids, [(e, 1) for e, f in rows if f])
    ok = (years_sampled == years) & (years_failed == 0)

    def evidence(i):
        if years_failed[i]:
            return f"{first}–{last}年中有 {int(years_failed[i])} 年抽检不合格"
        if years_sampled[i] < years:
            return f"{first}–{last}年中仅 {int(years_sampled[i])} 年有抽检记录"
        return f"{first}–{last}年抽检全部合格"

    return Outcome(ok, evidence)


@predicate("adr_rate_below_national_mean")
def adr_rate_below_national_mean(ids, as_of, subset, *, per_product_per_year: float) -> Outcome:
    """ADR reports per product over the last year below the national mean (不良反应低于全国均值).

    An enterprise holding no product has no rate, so the condition is not met ("无数据").
    """
    start = as_of - datetime.timedelta(days=365)
    products = list(
        restrict(Product.objects.all(), "holder_id", ids, subset)
        .values("holder_id")
        .annotate(_n=Count("pk"))
        .values_list("holder_id", "_n")
        .order_by()
    )
    reports = list(
        restrict(
            counted_adr_reports().filter(reported_on__gt=start, reported_on__lte=as_of), "enterprise_id", ids, subset
        )
        .values("enterprise_id")
        .annotate(_n=Count("pk"))
        .values_list("enterprise_id", "_n")
        .order_by()
    )
    n_products, n_reports = _counts(ids, products), _counts(ids, reports)
    rate = np.divide(n_reports, n_products, out=np.full(len(ids), np.nan), where=n_products > 0)
    ok = np.nan_to_num(rate, nan=np.inf) < per_product_per_year

    def evidence(i):
        if np.isnan(rate[i]):
            return "未持有品种，无不良反应报告率数据"
        return f"不良反应报告率 {rate[i]:.2f} 份/品种/年（全国均值 {per_product_per_year:g}）"

    return Outcome(ok, evidence)


@predicate("credit_grade_in")
def credit_grade_in(ids, as_of, subset, *, grades: list[str]) -> Outcome:
    """Latest credit grade on or before the date is one of ``grades`` (信用等级)."""
    current = latest_credit_grades(ids, as_of, subset)
    ok = np.isin(current.astype(str), grades)
    return Outcome(ok, lambda i: f"信用等级 {current[i]}" if current[i] else "无信用评价")


@predicate("critical_defects_at_least")
def critical_defects_at_least(ids, as_of, subset, *, count: int, window_days: int) -> Outcome:
    """At least ``count`` critical defects in inspections within the window (严重缺陷≥N项)."""
    start = as_of - datetime.timedelta(days=window_days)
    rows = list(
        restrict(Defect.objects.filter(grade="critical"), "inspection__enterprise_id", ids, subset)
        .filter(inspection__inspected_on__gt=start, inspection__inspected_on__lte=as_of)
        .values("inspection__enterprise_id")
        .annotate(_n=Count("pk"))
        .values_list("inspection__enterprise_id", "_n")
        .order_by()
    )
    n = _counts(ids, rows)
    return Outcome(n >= count, lambda i: f"近{window_days}天严重缺陷 {int(n[i])} 项（阈值 {count}）")


def evaluate(rule: dict, ids: np.ndarray, as_of: datetime.date, subset: bool = False):
    """All conditions of ``rule`` for every enterprise: (fires array, evidence function)."""
    outcomes = [PREDICATES[c["predicate"]](ids, as_of, subset, **c.get("params", {})) for c in rule["conditions"]]
    fires = np.logical_and.reduce([o.ok for o in outcomes]) if outcomes else np.zeros(len(ids), bool)

    def evidence(i) -> list[str]:
        return [("✓ " if o.ok[i] else "✗ ") + o.evidence(i) for o in outcomes]

    return fires, evidence
