"""Clustered-signal detection 聚集性信号检测, run daily (``yaojian sentinel detect [--as-of DATE]``).

Two layers over valid ADR reports known by the day of the run (reported_on ≤ as_of):

* Rule layer 规则层 — 药品群体不良事件 (regulatory-rules.md §4(d): the same drug — same maker, name, dosage
  form and strength, i.e. one registered ``Product`` — harming several people in a relatively concentrated
  time and area). Defaults (``SentinelConfig``):
    - product rule: ≥ 3 cases of one product whose event days fall within 7 calendar days ending on the
      run day (as_of − 6 … as_of) in one county-level district 区县;
    - batch rule (the stricter match, so a wider area): ≥ 3 cases of one batch within 7 days in one
      prefecture-level city 地市. A batch group covered by a product cluster only names the batch on it.
* Statistical layer 统计层 — Kulldorff's prospective space-time permutation scan (``surveillance.scan``)
  over districts × days of each province, per product with ≥ ``scan_min_cases`` cases in the last
  ``scan_max_days`` days; a cluster when the Monte Carlo p-value ≤ α (default 0.01). A scan cluster whose
  cases an open rule cluster of the product already holds adds its strength (expected, LLR, p) to it.

Event day 事件日期 = onset date, else first-knowledge date, else report date. Area 地区 = the district of
the reporting unit (where the patient was seen), else the report's own division.

Idempotent: a cluster is keyed by what it watches (layer, rule, product, batch, area); re-running a day
changes nothing, a new case in the window grows the open cluster, and only a new cluster opens a response.
Once a cluster is closed, new cases in its window open a new signal (with all the window's cases).
"""

from __future__ import annotations

import datetime
import zlib
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.db.models import Count, F
from django.db.models.functions import Coalesce, Substr

from yaojian.core import services as core_services
from yaojian.surveillance.scan import space_time_scan

from . import services
from .models import Cluster, ClusterStatus, Layer, SentinelConfig
from .performance import valid_reports


@dataclass
class Candidate:
    layer: str
    rule: str
    product_id: int
    area: str  # the cluster's division code (district, or city for the batch rule)
    case_ids: set[int]
    days: list[datetime.date]
    districts: list[str]
    batch_id: int | None = None
    strength: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.layer}:{self.rule}:{self.product_id}:{self.batch_id or '-'}:{self.area}"


@dataclass
class DetectResult:
    created: list[Cluster] = field(default_factory=list)
    updated: list[Cluster] = field(default_factory=list)
    unchanged: list[Cluster] = field(default_factory=list)
    scanned: int = 0  # products scanned

    def __str__(self):
        return (
            f"新信号 {len(self.created)}，更新 {len(self.updated)}，未变 {len(self.unchanged)}，扫描品种 {self.scanned}"
        )


def cases(as_of: datetime.date, prefix: str = ""):
    """Valid reports with a product known by ``as_of``, annotated with their event day and area."""
    qs = valid_reports().filter(product__isnull=False, reported_on__lte=as_of)
    qs = qs.annotate(
        day=Coalesce("onset_on", "received_on", "reported_on"),
        area=Coalesce(F("reporting_enterprise__division_id"), F("division_code")),
    )
    return qs.filter(area__startswith=prefix) if prefix else qs


def _window(as_of: datetime.date, days: int):
    return as_of - datetime.timedelta(days=days - 1), as_of


def _grouped_candidates(qs, group: tuple[str, ...], min_cases: int, make) -> list[Candidate]:
    """Groups of ``qs`` with at least ``min_cases`` reports (counted in SQL), then their cases in one query."""
    groups = list(qs.values(*group).annotate(n=Count("pk")).filter(n__gte=min_cases).values_list(*group))
    if not groups:
        return []
    wanted = set(groups)
    members: dict[tuple, list] = {}
    first = {f"{group[0]}__in": {g[0] for g in groups}}
    fields = ["pk", "day", "area", "batch_id"]
    fields += [name for name in group if name not in fields]
    for row in qs.filter(**first).values_list(*fields):
        key = tuple(row[fields.index(name)] for name in group)
        if key in wanted:
            members.setdefault(key, []).append(row[:4])
    return [make(key, rows) for key, rows in members.items()]


def rule_candidates(as_of: datetime.date, config: SentinelConfig, prefix: str = "") -> list[Candidate]:
    start, end = _window(as_of, config.rule_window_days)
    product_qs = cases(as_of, prefix).filter(day__range=(start, end))

    def product_cluster(key, rows):
        batches = {r[3] for r in rows if r[3] is not None}
        return Candidate(
            Layer.RULE,
            "product",
            key[0],
            key[1],
            {r[0] for r in rows},
            [r[1] for r in rows],
            [key[1]],
            batch_id=batches.pop() if len(batches) == 1 else None,
        )

    found = _grouped_candidates(product_qs, ("product_id", "area"), config.rule_min_cases, product_cluster)

    start, end = _window(as_of, config.batch_window_days)
    batch_qs = cases(as_of, prefix).filter(day__range=(start, end), batch__isnull=False)
    batch_qs = batch_qs.annotate(city=Substr("area", 1, 4))

    def batch_cluster(key, rows):
        rows_product = batch_product[key[0]]
        return Candidate(
            Layer.RULE,
            "batch",
            rows_product,
            key[1] + "00",
            {r[0] for r in rows},
            [r[1] for r in rows],
            sorted({r[2] for r in rows}),
            batch_id=key[0],
        )

    batch_product = dict(batch_qs.values_list("batch_id", "product_id").distinct())
    for candidate in _grouped_candidates(batch_qs, ("batch_id", "city"), config.batch_min_cases, batch_cluster):
        holder = next(
            (c for c in found if c.product_id == candidate.product_id and candidate.case_ids <= c.case_ids), None
        )
        if holder is None:
            found.append(candidate)
        elif holder.batch_id is None:
            holder.batch_id = candidate.batch_id
    return found


def district_layout(codes: list[str]) -> np.ndarray:
    """Planar positions of districts for the scan's circles.

    The platform holds no district geometry yet, so neighbourhoods follow the administrative hierarchy:
    the districts of one city sit on a unit circle around the city's point and cities lie 100 apart, so a
    district's nearest neighbours are the other districts of its city, then the nearest cities'.
    """
    cities = sorted({c[:4] for c in codes})
    city_index = {c: i for i, c in enumerate(cities)}
    position = np.zeros((len(codes), 2))
    by_city: dict[str, list[int]] = {}
    for i, code in enumerate(codes):
        by_city.setdefault(code[:4], []).append(i)
    for city, members in by_city.items():
        angles = 2 * np.pi * np.arange(len(members)) / len(members)
        position[members, 0] = 100.0 * city_index[city] + np.cos(angles)
        position[members, 1] = np.sin(angles)
    return position


def scan_candidates(as_of: datetime.date, config: SentinelConfig, prefix: str = "") -> tuple[list[Candidate], int]:
    """Per province and product, the most likely space-time cluster when its p-value ≤ α."""
    recent_start, _ = _window(as_of, config.scan_max_days)
    base_start, _ = _window(as_of, config.scan_baseline_days)
    window = cases(as_of, prefix).filter(day__range=(base_start, as_of)).annotate(province=Substr("area", 1, 2))
    wanted = list(
        window.filter(day__gte=recent_start)
        .values("province", "product_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=config.scan_min_cases)
        .values_list("province", "product_id")
    )
    found = []
    for province in sorted({p for p, _ in wanted}):
        products = [pid for p, pid in wanted if p == province]
        rows = list(
            window.filter(province=province, product_id__in=products).values_list("pk", "product_id", "area", "day")
        )
        n_days = config.scan_baseline_days
        pks = np.array([r[0] for r in rows])
        product = np.array([r[1] for r in rows])
        areas = np.array([r[2] for r in rows])
        days = np.array([(r[3] - base_start).days for r in rows])
        for product_id in products:
            # The permutation model's locations are the districts with cases of the product (as in SaTScan's
            # case file); circles are centred on them and take in up to ``scan_max_zones`` of them.
            mine = product == product_id
            codes, zones = np.unique(areas[mine], return_inverse=True)
            codes = codes.tolist()
            table = np.zeros((len(codes), n_days), dtype=np.int64)
            np.add.at(table, (zones, days[mine]), 1)
            seed = zlib.crc32(f"{product_id}:{as_of.isoformat()}".encode())
            result = space_time_scan(
                table,
                district_layout(codes),
                max_zones=config.scan_max_zones or None,
                max_days=config.scan_max_days,
                replications=config.scan_replications,
                seed=seed,
            )
            if result.p_value > config.scan_alpha:
                continue
            window_days = days[mine]
            inside = np.isin(zones, result.zones) & (window_days >= result.first_day) & (window_days <= result.last_day)
            # The circle may take in districts without cases in the period; the signal names those with cases, led by
            # the district with the most (ties: nearest the centre).
            per_zone = np.bincount(zones[inside], minlength=len(codes))[result.zones]
            districts = [codes[z] for z, n in zip(result.zones, per_zone, strict=True) if n]
            found.append(
                Candidate(
                    Layer.SCAN,
                    "scan",
                    product_id,
                    codes[result.zones[int(np.argmax(per_zone))]],
                    set(pks[mine][inside].tolist()),
                    [base_start + datetime.timedelta(days=int(d)) for d in window_days[inside]],
                    districts,
                    strength={"expected": result.expected, "llr": result.llr, "p_value": result.p_value},
                )
            )
    return found, len(wanted)


def _store(candidate: Candidate, as_of, now, window_days: int, actor, result: DetectResult, config) -> None:
    """Create, grow or leave alone the cluster for ``candidate``."""
    window_start, _ = _window(as_of, window_days)
    existing = Cluster.objects.filter(key=candidate.key, last_day__gte=window_start).order_by("-pk").first()
    held = set(existing.cases.values_list("pk", flat=True)) if existing else set()
    if existing is not None and candidate.case_ids <= held:
        result.unchanged.append(existing)
        return
    if existing is not None and existing.status == ClusterStatus.OPEN:
        case_ids = candidate.case_ids | held
        days = [existing.first_day, existing.last_day, *candidate.days]
        core_services.update_record(
            existing,
            actor=actor,
            case_count=len(case_ids),
            first_day=min(days),
            last_day=max(days),
            updated_on=as_of,
            districts=sorted(set(existing.districts) | set(candidate.districts)),
            batch_id=existing.batch_id or candidate.batch_id,
            **candidate.strength,
        )
        existing.cases.add(*(candidate.case_ids - held))
        result.updated.append(existing)
        return
    cluster = core_services.create_record(
        Cluster,
        actor=actor,
        key=candidate.key,
        layer=candidate.layer,
        rule=candidate.rule,
        product_id=candidate.product_id,
        batch_id=candidate.batch_id,
        districts=sorted(set(candidate.districts)),
        division_code=candidate.area,
        first_day=min(candidate.days),
        last_day=max(candidate.days),
        detected_on=as_of,
        detected_at=now,
        updated_on=as_of,
        case_count=len(candidate.case_ids),
        **candidate.strength,
    )
    cluster.cases.set(candidate.case_ids)
    services.open_response(cluster, actor=actor, config=config)
    result.created.append(cluster)


def _confirm_by_scan(candidate: Candidate, actor) -> bool:
    """A scan cluster whose cases an open rule cluster of the product holds adds its strength to that one."""
    for cluster in Cluster.objects.filter(
        layer=Layer.RULE, product_id=candidate.product_id, status=ClusterStatus.OPEN
    ).prefetch_related("cases"):
        if candidate.case_ids <= {c.pk for c in cluster.cases.all()}:
            if any(getattr(cluster, k) != v for k, v in candidate.strength.items()):
                core_services.update_record(cluster, actor=actor, **candidate.strength)
            return True
    return False


def detect(
    as_of: datetime.date,
    *,
    now: datetime.datetime,
    actor=None,
    prefix: str = "",
    layers=(Layer.RULE, Layer.SCAN),
    config: SentinelConfig | None = None,
) -> DetectResult:
    """Run the day's detection for the jurisdiction ``prefix`` (all when empty)."""
    config = config or SentinelConfig.current()
    result = DetectResult()
    # The candidates are read (and the scans run) before the write transaction, which stays short.
    rules = rule_candidates(as_of, config, prefix) if Layer.RULE in layers else []
    scans, result.scanned = scan_candidates(as_of, config, prefix) if Layer.SCAN in layers else ([], 0)
    with transaction.atomic():
        for candidate in rules:
            window = config.rule_window_days if candidate.rule == "product" else config.batch_window_days
            _store(candidate, as_of, now, window, actor, result, config)
        for candidate in scans:
            if not _confirm_by_scan(candidate, actor):
                _store(candidate, as_of, now, config.scan_max_days, actor, result, config)
    return result
