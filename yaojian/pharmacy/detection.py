"""Syndromic detection 症状监测预警: daily counts → detectors → multi-point trigger 多点触发 → alerts.

The counts of the history window are read in one query and laid out as (series, days) arrays, one series
per drug class × pharmacy (the points 监测点) and per drug class × district; the detectors of
``yaojian.surveillance`` run over all series at once:

- EARS C1, C2 and the textbook C3 (``ears.ears(method="C3-textbook")``: sum over the last 3 days of
  max(0, C2 − 1) > threshold). R ``surveillance``'s own C3 ignores the current day's count, so a one-day
  surge cannot raise it; see the module docstring of ``yaojian/surveillance/ears.py`` for both formulas.
- Farrington flexible (delta threshold) and its Noufaily variant (negative-binomial plug-in quantile),
  ``surveillance/farrington.py``, on daily data with weekly periodicity (``farrington_freq`` 7).
- standardised CUSUM (``ears.cusum``).

An alert needs one detector alarming at several points on the same day for the same class: at least
``min_pharmacies`` (k) pharmacies of one district, or at least ``min_districts`` (m) districts of one city.
"""

import datetime
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction
from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone

from yaojian.core import audit
from yaojian.core.choices import AuditAction
from yaojian.core.models import Division
from yaojian.registry.models import Enterprise
from yaojian.surveillance.ears import DetectorResult, cusum, ears
from yaojian.surveillance.farrington import FarringtonControl, farrington_flexible, noufaily_control

from .models import DETECTORS, Alert, AlertLevel, AlertStatus, DailyCount, WarningConfig


def run_detector(name: str, counts: np.ndarray, config: WarningConfig, days=None) -> DetectorResult:
    """One detector over (series, days) counts; ``days`` limits Farrington to those day indices."""
    if name in ("c1", "c2"):
        return ears(counts, name.upper(), config.ears_baseline, alpha=config.ears_alpha, min_sigma=config.min_sigma)
    if name == "c3":
        return ears(
            counts, "C3-textbook", config.ears_baseline, threshold=config.c3_threshold, min_sigma=config.min_sigma
        )
    if name == "cusum":
        return cusum(counts, config.cusum_baseline, k=config.cusum_k, h=config.cusum_h, min_sigma=config.min_sigma)
    if name in ("farrington", "noufaily"):
        first = config.farrington_freq * config.farrington_b + config.farrington_w
        if counts.shape[1] <= first:  # not enough history for one evaluation
            shape = counts.shape
            return DetectorResult(np.full(shape, np.nan), np.zeros(shape, dtype=bool), shape[1])
        if days is not None:
            days = [d for d in days if d >= first]
        common = {"b": config.farrington_b, "w": config.farrington_w, "alpha": config.farrington_alpha}
        if name == "farrington":
            control = FarringtonControl(**common)
        else:
            # Noufaily's setting for daily data: the off-season blocks must fit between the weekly windows.
            periods = max(1, min(3, config.farrington_freq - 2 * config.farrington_w - 1))
            control = noufaily_control(**common, no_periods=periods, past_weeks_not_included=config.farrington_w)
        return farrington_flexible(counts, config.farrington_freq, control, days=days)
    raise ValueError(f"未知的检测方法 {name}")


def multi_point(groups: np.ndarray, alarms: np.ndarray, k: int) -> dict:
    """Groups (district, or city) where at least ``k`` of their points alarm: {group: point indices}."""
    hits = {}
    if not alarms.any():
        return hits
    alarming = np.flatnonzero(alarms)
    keys, counts = np.unique(groups[alarming], return_counts=True)
    for key in keys[counts >= k]:
        hits[key.item() if hasattr(key, "item") else key] = alarming[groups[alarming] == key]
    return hits


@dataclass
class CountTable:
    """Counts of the window as arrays: one row per (class, district, pharmacy); days as columns."""

    days: list[datetime.date]
    drug_class: np.ndarray
    division: np.ndarray
    pharmacy: np.ndarray
    counts: np.ndarray

    def by_district(self) -> "CountTable":
        """Series summed per (class, district) with np.add.at (no Python loop over rows)."""
        keys = np.char.add(self.drug_class.astype(str), np.char.add("|", self.division.astype(str)))
        unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        summed = np.zeros((unique.size, len(self.days)))
        np.add.at(summed, inverse, self.counts)
        return CountTable(self.days, self.drug_class[first], self.division[first], np.zeros(unique.size, int), summed)


def load_counts(as_of: datetime.date, config: WarningConfig, *, span: int | None = None, counts=None) -> CountTable:
    """The window's daily counts (``config.metric``) ending on ``as_of``, zero-filled; ``counts`` narrows the rows.

    The rows come through the cursor with the day as ISO text (no per-row date objects) and are parsed by NumPy.
    """
    span = span or config.history_days
    start = as_of - datetime.timedelta(days=span - 1)
    window = (
        (DailyCount.objects.all() if counts is None else counts)
        .filter(day__range=(start, as_of), drug_class__is_active=True)
        .order_by()
    )  # no ORDER BY: the rows are placed by index, and DISTINCT below must not carry the day
    days = [start + datetime.timedelta(days=i) for i in range(span)]
    query = window.annotate(day_text=Cast("day", CharField(max_length=10))).values_list(
        "day_text", "drug_class_id", "pharmacy_id", config.metric
    )
    with connection.cursor() as cursor:
        cursor.execute(*query.query.sql_with_params())
        rows = cursor.fetchall()
    if not rows:
        empty = np.array([], dtype=int)
        return CountTable(days, empty, np.array([], dtype="<U6"), empty, np.zeros((0, span)))
    day, cls, pha, value = zip(*rows, strict=True)
    offset = (np.array(day, dtype="datetime64[D]") - np.datetime64(start, "D")).astype(int)
    cls, pha = np.array(cls, dtype=np.int64), np.array(pha, dtype=np.int64)
    unique, inverse = np.unique(pha, return_inverse=True)
    division_of = dict(window.values_list("pharmacy_id", "division_code").distinct())
    divisions = np.array([division_of[p] for p in unique.tolist()], dtype="<U6")
    # A pharmacy lies in one district; series are keyed by (class, pharmacy).
    key = cls * (unique.size + 1) + inverse
    series, series_first, series_inverse = np.unique(key, return_index=True, return_inverse=True)
    table = np.zeros((series.size, span))
    np.add.at(table, (series_inverse, offset), np.array(value, dtype=float))
    return CountTable(days, cls[series_first], divisions[inverse[series_first]], pha[series_first], table)


@dataclass
class Trigger:
    level: str
    drug_class: int
    division_code: str
    detectors: dict = field(default_factory=dict)  # detector → point indices


def _alarms_today(table: CountTable, config: WarningConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    last = len(table.days) - 1
    result = {}
    for name in config.detectors:
        found = run_detector(name, table.counts, config, days=[last])
        result[name] = (found.alarm[:, last], found.upperbound[:, last])
    return result


def find_triggers(table: CountTable, config: WarningConfig) -> tuple[list[Trigger], dict]:
    """Multi-point triggers on the window's last day, at both levels; also each level's (table, alarms)."""
    triggers: dict[tuple, Trigger] = {}
    levels = {}
    if table.counts.shape[0] == 0:
        return [], levels
    district_table = table.by_district()
    city = np.array([code[:4] + "00" for code in district_table.division.tolist()])
    plans = (
        (AlertLevel.PHARMACIES, table, table.division, config.min_pharmacies),
        (AlertLevel.DISTRICTS, district_table, city, config.min_districts),
    )
    for level, level_table, area, k in plans:
        alarms = _alarms_today(level_table, config)
        levels[level] = (level_table, alarms)
        groups = np.char.add(level_table.drug_class.astype(str), np.char.add("|", area.astype(str)))
        for name, (alarm, _upper) in alarms.items():
            for group, indices in multi_point(groups, alarm, k).items():
                class_id, code = group.split("|")
                trigger = triggers.setdefault((level, group), Trigger(level, int(class_id), code))
                trigger.detectors[name] = indices
    return list(triggers.values()), levels


def _points(trigger: Trigger, table: CountTable, alarms: dict, labels: dict) -> list[dict]:
    last = len(table.days) - 1
    indices = sorted({int(i) for found in trigger.detectors.values() for i in found})
    points = []
    for i in indices:
        key = int(table.pharmacy[i]) if trigger.level == AlertLevel.PHARMACIES else str(table.division[i])
        bounds = {
            name: (None if np.isnan(alarms[name][1][i]) else round(float(alarms[name][1][i]), 2))
            for name, found in trigger.detectors.items()
            if i in set(found.tolist())
        }
        points.append(
            {"key": key, "label": labels.get(key, str(key)), "count": int(table.counts[i, last]), "detectors": bounds}
        )
    return points


@dataclass
class DetectResult:
    day: datetime.date
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    removed: int = 0


def detect(as_of: datetime.date, *, config: WarningConfig | None = None, actor=None) -> DetectResult:
    """Run the detectors for ``as_of`` and file the alerts; running it again for the same day changes nothing."""
    config = config or WarningConfig.current()
    table = load_counts(as_of, config)
    triggers, levels = find_triggers(table, config)
    pharmacy_ids = {int(p) for p in table.pharmacy.tolist()}
    labels = dict(Enterprise.objects.filter(pk__in=pharmacy_ids).values_list("pk", "name"))
    labels |= dict(Division.objects.filter(code__in=set(table.division.tolist())).values_list("code", "name"))
    result = DetectResult(as_of)
    window = as_of - datetime.timedelta(days=Alert.CONTINUES_DAYS)
    with transaction.atomic():
        kept = []
        for trigger in triggers:
            level_table, alarms = levels[trigger.level]
            values = {
                "detectors": [d for d in DETECTORS if d in trigger.detectors],
                "points": _points(trigger, level_table, alarms, labels),
            }
            values["n_points"] = len(values["points"])
            alert = (
                Alert.objects.select_for_update()
                .filter(
                    drug_class_id=trigger.drug_class,
                    level=trigger.level,
                    division_code=trigger.division_code,
                    last_day__gte=window,
                    first_day__lte=as_of,
                )
                .exclude(status=AlertStatus.CLOSED)
                .order_by("-last_day")
                .first()
            )
            if alert is None:
                alert = Alert.objects.create(
                    drug_class_id=trigger.drug_class,
                    level=trigger.level,
                    division_code=trigger.division_code,
                    first_day=as_of,
                    last_day=as_of,
                    **values,
                )
                result.created.append(alert.pk)
            else:
                if alert.last_day <= as_of:
                    values["last_day"] = as_of
                for name, value in values.items():
                    setattr(alert, name, value)
                alert.save()
                result.updated.append(alert.pk)
            kept.append(alert.pk)
        # Alerts this day opened that no longer fire (the data were corrected) and nobody has touched yet.
        stale = Alert.objects.filter(first_day=as_of, last_day=as_of, status=AlertStatus.NEW, assignee=None)
        result.removed, _ = stale.exclude(pk__in=kept).delete()
        audit.record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type=Alert._meta.label_lower,
            object_repr=f"{as_of} 药店预警检测",
            after={
                "day": as_of,
                "config_version": config.version,
                "series": int(table.counts.shape[0]),
                "created": result.created,
                "updated": result.updated,
                "removed": result.removed,
                "run_at": timezone.now(),
            },
        )
    return result


def series_chart(counts, as_of: datetime.date, detector: str, *, days: int = 60, config=None) -> dict:
    """The sum of ``counts`` (one class in a district, city or pharmacy) for the chart: counts, bound, alarms."""
    config = config or WarningConfig.current()
    table = load_counts(as_of, config, span=config.history_days + days, counts=counts)
    total = table.counts.sum(axis=0, keepdims=True) if table.counts.size else np.zeros((1, len(table.days)))
    shown = range(len(table.days) - days, len(table.days))
    found = run_detector(detector, total, config, days=list(shown))
    upper = found.upperbound[0, shown.start :]
    alarm = found.alarm[0, shown.start :]
    day_labels = [d.isoformat() for d in table.days[shown.start :]]
    return {
        "days": day_labels,
        "counts": total[0, shown.start :].astype(int).tolist(),
        "upper": [None if np.isnan(u) else round(float(u), 2) for u in upper],
        "alarms": [[day_labels[i], int(total[0, shown.start + i])] for i in np.flatnonzero(alarm)],
        "detector": DETECTORS[detector],
        "metric": config.get_metric_display(),
    }
