"""Sentinel performance 哨点绩效: volume, timeliness 即销即报 and silence, and the yearly targets 年度目标.

Everything is computed over whole columns: one query fetches the reports' dates, numpy does the
arithmetic (delays in days, per-site counts and medians).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, F, Max, Q
from django.db.models.functions import Coalesce

from yaojian.adr.models import AdrReport, ReportSource

from .models import Cluster, ResponseStatus, SentinelConfig, SentinelSite


def valid_reports():
    """Reports that count 有效报告: merged duplicates and nullified reports are left out."""
    return AdrReport.objects.filter(duplicate_of__isnull=True, is_nullified=False)


def sentinel_reports():
    """Sentinel reports 哨点报告: source "sentinel", filed by a registered sentinel site's enterprise."""
    return valid_reports().filter(source=ReportSource.SENTINEL, reporting_enterprise__sentinel_site__isnull=False)


def report_delays(reports) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(report pks, reporting enterprise ids, delays in days) — the clock starts at the sale, or failing that
    at first knowledge (received_on); a report with neither gets NaN (无法计时)."""
    rows = list(
        reports.annotate(start=Coalesce("sold_on", "received_on")).values_list(
            "pk", "reporting_enterprise_id", "start", "reported_on"
        )
    )
    if not rows:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([], dtype=float)
    pks, enterprises, starts, reported = zip(*rows, strict=True)
    start = np.array([s if s is not None else np.datetime64("NaT") for s in starts], dtype="datetime64[D]")
    delay = (np.array(reported, dtype="datetime64[D]") - start).astype("timedelta64[D]")
    days = np.where(np.isnat(delay), np.nan, delay.astype(float))
    return np.array(pks), np.array(enterprises), days


def on_time(days: np.ndarray, limit: int) -> np.ndarray:
    """True where the report came within ``limit`` days (7 days: a report on day 7 is on time, day 8 late)."""
    with np.errstate(invalid="ignore"):
        return days <= limit


@dataclass
class SiteRow:
    site: SentinelSite
    reports: int
    timed: int
    on_time: int
    median_days: float | None
    last_reported_on: datetime.date | None
    days_silent: int
    silent: bool

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.timed if self.timed else None


def site_performance(sites, start: datetime.date, end: datetime.date, config: SentinelConfig) -> list[SiteRow]:
    """Per site: reports in [start, end], their timeliness, and silence as of ``end``."""
    sites = list(sites.select_related("enterprise"))
    enterprise_ids = [s.enterprise_id for s in sites]
    reports = sentinel_reports().filter(reporting_enterprise_id__in=enterprise_ids)
    _pks, owners, days = report_delays(reports.filter(reported_on__range=(start, end)))
    last = dict(
        reports.filter(reported_on__lte=end)
        .values("reporting_enterprise_id")
        .annotate(last=Max("reported_on"))
        .values_list("reporting_enterprise_id", "last")
    )
    # Group by site with one sort: rows of one enterprise are contiguous afterwards.
    order = np.lexsort((days, owners))
    owners, days = owners[order], days[order]
    bounds = np.searchsorted(owners, enterprise_ids, side="left"), np.searchsorted(owners, enterprise_ids, "right")
    timely = on_time(days, config.timeliness_days)
    rows = []
    for site, lo, hi in zip(sites, *bounds, strict=True):
        measured = days[lo:hi][~np.isnan(days[lo:hi])]
        last_on = last.get(site.enterprise_id)
        since = max(last_on or site.active_from, site.active_from)
        silent_days = (end - since).days
        rows.append(
            SiteRow(
                site=site,
                reports=int(hi - lo),
                timed=int(measured.size),
                on_time=int(timely[lo:hi].sum()),
                median_days=float(np.median(measured)) if measured.size else None,
                last_reported_on=last_on,
                days_silent=silent_days,
                silent=site.active_to is None and silent_days >= config.silence_days,
            )
        )
    return rows


def handling(clusters) -> dict:
    """Signal handling 信号处置: share of clusters whose response is closed, median hours detection → close."""
    counts = clusters.aggregate(
        total=Count("pk"), handled=Count("pk", filter=Q(response__status=ResponseStatus.CLOSED))
    )
    spans = clusters.filter(response__closed_at__isnull=False).annotate(
        span=F("response__closed_at") - F("detected_at")
    )
    hours = np.array([s.total_seconds() / 3600 for s in spans.values_list("span", flat=True)], dtype=float)
    total, handled = counts["total"], counts["handled"]
    return {
        "total": total,
        "handled": handled,
        "rate": handled / total if total else None,
        "median_hours": float(np.median(hours)) if hours.size else None,
    }


def targets(reports, clusters, year: int, config: SentinelConfig) -> dict:
    """Yearly targets 年度目标: valid reports against the target; signals handled against the target rate."""
    in_year = reports.filter(reported_on__year=year)
    counts = in_year.aggregate(valid=Count("pk"), sentinel=Count("pk", filter=Q(source=ReportSource.SENTINEL)))
    signal = handling(clusters.filter(detected_on__year=year))
    target = config.annual_report_target
    return {
        "year": year,
        "valid": counts["valid"],
        "sentinel": counts["sentinel"],
        "report_target": target,
        "report_progress": counts["valid"] / target if target else None,
        "handled_target": config.handled_target_pct / 100,
        **{f"signal_{k}": v for k, v in signal.items()},
    }


def cluster_queryset():
    return Cluster.objects.select_related("product", "batch", "response")
