"""Prospective space-time permutation scan statistic 时空重排扫描统计量 (Kulldorff et al. 2005, PLoS Med 2:e59).

Input: case counts shaped (districts, days) and the districts' centroids. Candidate clusters are
cylinders: the base is a circle around a district centroid taking in its k nearest districts
(k = 1..``max_zones``), the height is a window of the last L days (L = 1..``max_days``; prospective
前瞻性: every cylinder ends on the last day).

Expected count of cylinder A (zones Z, days D) given the margins: μ_A = C_Z · C_D / C. The Poisson
generalised likelihood ratio is (c/μ)^c · ((C − c)/(C − μ))^(C − c) for c > μ and 1 otherwise; the
most likely cluster maximises its log. Its p-value comes from Monte Carlo replications in which the
days of the cases are shuffled (margins kept): p = (1 + #{replications with max LLR ≥ observed}) / (R + 1).

Vectorised: for one table the LLR of all centres × sizes × windows is one array expression; the
replications are evaluated in batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BATCH = 32  # replications per batch


@dataclass
class ScanCluster:
    """The most likely cluster 最可能聚集: zones, period, counts and strength."""

    zones: np.ndarray  # district indices, nearest to the centre first
    centre: int
    first_day: int  # 0-based, inclusive
    last_day: int
    observed: float
    expected: float
    llr: float
    p_value: float
    null_max: np.ndarray  # the replications' maximum LLRs

    @property
    def relative_risk(self) -> float:
        return self.observed / self.expected


def neighbours(centroids, max_zones: int) -> np.ndarray:
    """For each district, the indices of its ``max_zones`` nearest districts (itself first; ties by index)."""
    xy = np.asarray(centroids, dtype=float)
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    return np.argsort(dist, axis=1, kind="stable")[:, :max_zones]


def log_likelihood_ratio(c, mu, total):
    """Kulldorff's Poisson log GLR, 0 where the cylinder is not in excess (c ≤ μ)."""
    c, mu = np.broadcast_arrays(np.asarray(c, dtype=float), np.asarray(mu, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = c * np.log(c / mu)
        rest = np.where(c < total, (total - c) * np.log((total - c) / (total - mu)), 0.0)
    return np.where(c > mu, inside + rest, 0.0)


def _window_counts(recent: np.ndarray) -> np.ndarray:
    """Counts of the last L days per zone, L = 1..max_days: (..., zones, days) → (..., zones, max_days)."""
    return np.cumsum(recent[..., ::-1], axis=-1)


def _llr_cube(windows, zone_totals, day_totals, total, nbrs):
    """LLR for every centre × size × window length, batched over a leading replication axis."""
    observed = np.cumsum(windows[..., nbrs, :], axis=-2)  # (..., centres, k, L)
    zone_sums = np.cumsum(zone_totals[nbrs], axis=1)  # (centres, k)
    expected = zone_sums[:, :, None] * day_totals[None, None, :] / total
    return log_likelihood_ratio(observed, expected, total), observed, expected


def space_time_scan(
    table,
    centroids,
    max_zones: int | None = None,
    max_days: int = 7,
    replications: int = 999,
    seed: int = 0,
) -> ScanCluster:
    """Most likely prospective space-time cluster in a (districts, days) count table, with its p-value.

    ``max_zones`` defaults to half the districts (SaTScan's 50 % spatial limit, counted in districts).
    """
    counts = np.asarray(table, dtype=np.int64)
    n_zones, n_days = counts.shape
    max_zones = max(1, n_zones // 2) if max_zones is None else min(max_zones, n_zones)
    max_days = min(max_days, n_days)
    nbrs = neighbours(centroids, max_zones)
    total = float(counts.sum())
    zone_totals = counts.sum(axis=1).astype(float)
    recent = counts[:, n_days - max_days :]
    day_totals = _window_counts(recent.sum(axis=0)).astype(float)

    llr, observed, expected = _llr_cube(_window_counts(recent).astype(float), zone_totals, day_totals, total, nbrs)
    centre, size, length = np.unravel_index(np.argmax(llr), llr.shape)
    best = float(llr[centre, size, length])

    null_max = _replicate(counts, max_days, zone_totals, day_totals, total, nbrs, replications, seed)
    return ScanCluster(
        zones=nbrs[centre, : size + 1].copy(),
        centre=int(centre),
        first_day=n_days - 1 - int(length),
        last_day=n_days - 1,
        observed=float(observed[centre, size, length]),
        expected=float(expected[centre, size, length]),
        llr=best,
        p_value=(1 + int((null_max >= best).sum())) / (replications + 1),
        null_max=null_max,
    )


def _replicate(counts, max_days, zone_totals, day_totals, total, nbrs, replications, seed):
    """Maximum LLR of each permuted table (the days of the cases shuffled, margins fixed).

    Only the cases falling in the last ``max_days`` days matter: under the permutation their zones are
    a sample without replacement from all cases' zones, so each replication draws that sample only.
    """
    n_zones, n_days = counts.shape
    rng = np.random.default_rng(seed)
    case_zones = np.repeat(np.arange(n_zones), counts.sum(axis=1))
    recent_days = np.repeat(np.arange(max_days), counts[:, n_days - max_days :].sum(axis=0))
    n_recent = recent_days.size
    null_max = np.zeros(replications)
    for lo in range(0, replications, BATCH):
        batch = min(BATCH, replications - lo)
        cells = np.empty((batch, n_recent), dtype=np.int64)
        for r in range(batch):
            cells[r] = rng.permutation(case_zones)[:n_recent] * max_days + recent_days
        cells += (np.arange(batch) * n_zones * max_days)[:, None]
        recent = np.bincount(cells.ravel(), minlength=batch * n_zones * max_days).reshape(batch, n_zones, max_days)
        llr, _, _ = _llr_cube(_window_counts(recent).astype(float), zone_totals, day_totals, total, nbrs)
        null_max[lo : lo + batch] = llr.reshape(batch, -1).max(axis=1)
    return null_max
