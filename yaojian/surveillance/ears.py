"""EARS C1/C2/C3 and a standardised CUSUM 早期异常报告系统检测算法, vectorised over series.

Every detector takes counts shaped (series, days) and returns a :class:`DetectorResult` with an
upper bound 阈值上限 and an alarm 警报 per series and time point; time points the detector cannot
evaluate (not enough baseline) hold NaN / False.

Conventions follow R ``surveillance::earsC`` (1.20.3), which the agreement tests check:

- C1: baseline = the ``baseline`` days just before day t (no guard band); C2 and C3: the same number
  of days ending 3 days before t (a 2-day guard band 保护间隔).
- threshold z = Φ⁻¹(1 − alpha); default alpha 0.001 for C1/C2 and 0.025 for C3, as in the package.
- sd is the sample standard deviation (n − 1), floored at ``min_sigma``.
- C1/C2 upper bound = mean + z·sd; alarm when the count is above it.

C3 comes in two flavours, because ``surveillance``'s C3 does not look at day t's own count:

- ``method="C3"`` (surveillance): alarm when max(0, C2(t−1) − 1) + max(0, C2(t−2) − 1) > z; the
  reported bound is max(0, y_t + sd_t·(z − those two terms)), so y_t cancels out of the comparison.
- ``method="C3-textbook"`` (CDC/Hutwagner 教科书版): C3(t) = Σ_{i=0..2} max(0, C2(t−i) − 1) and
  alarm when C3(t) > ``threshold`` (default 2). The upper bound is the count at which day t alone
  would tip C3 over the threshold, mean_t + sd_t·(1 + max(0, threshold − p₁ − p₂)); when the two
  previous days already exceed the threshold the day alarms whatever its count.

Missing upper bounds (NaN, e.g. a flat baseline with ``min_sigma`` 0) never alarm; R returns NA there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.special import ndtri

DEFAULT_ALPHA = {"C1": 0.001, "C2": 0.001, "C3": 0.025, "C3-textbook": 0.001}
GUARD = {"C1": 0, "C2": 2, "C3": 2, "C3-textbook": 2}


@dataclass
class DetectorResult:
    """Upper bounds and alarms shaped (series, days); ``start`` is the first evaluated day (0-based)."""

    upperbound: np.ndarray
    alarm: np.ndarray
    start: int
    statistic: np.ndarray | None = None


def as_counts(counts) -> np.ndarray:
    """Counts as a float (series, days) array; a single series becomes one row."""
    y = np.asarray(counts, dtype=float)
    return y[None, :] if y.ndim == 1 else y


def baseline_moments(y: np.ndarray, baseline: int, guard: int, min_sigma: float):
    """Mean and floored sd of the ``baseline`` days ending ``guard`` days before each day.

    Returns arrays shaped like ``y``; days without a full baseline hold NaN.
    """
    n_series, n_days = y.shape
    if _exact_integer_sums(y):
        # Counts: running sums of y and y² are exact in float64, so b·Σy² − (Σy)² has no cancellation
        # error and one pass over the data is enough.
        zero = np.zeros((n_series, 1))
        c1 = np.concatenate([zero, np.cumsum(y, axis=1)], axis=1)
        c2 = np.concatenate([zero, np.cumsum(y * y, axis=1)], axis=1)
        s1 = c1[:, baseline:] - c1[:, :-baseline]
        s2 = c2[:, baseline:] - c2[:, :-baseline]
        mean = s1 / baseline
        sd = np.sqrt(np.maximum(baseline * s2 - s1 * s1, 0.0) / (baseline * (baseline - 1)))
    else:
        windows = sliding_window_view(y, baseline, axis=1)  # window i covers days i .. i+baseline-1
        mean = windows.mean(axis=2)
        # Two-pass variance (not Σy² − n·ȳ²) keeps R's accuracy for non-integer data.
        sd = np.sqrt(((windows - mean[..., None]) ** 2).sum(axis=2) / (baseline - 1))
    sd = np.maximum(sd, min_sigma)
    offset = baseline + guard  # day t uses window starting at t − baseline − guard
    full_mean = np.full((n_series, n_days), np.nan)
    full_sd = np.full((n_series, n_days), np.nan)
    last = n_days - offset
    if last > 0:
        full_mean[:, offset:] = mean[:, :last]
        full_sd[:, offset:] = sd[:, :last]
    return full_mean, full_sd


def _exact_integer_sums(y: np.ndarray) -> bool:
    """True when y holds non-negative integers small enough for exact running sums of y²."""
    if not np.isfinite(y).all() or y.min(initial=0) < 0 or not (y == np.floor(y)).all():
        return False
    return bool(y.max(initial=0) ** 2 * y.shape[1] < 2**52)


def _alarm(y: np.ndarray, upper: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(upper), False, y > upper)


def ears(
    counts,
    method: str = "C1",
    baseline: int = 7,
    alpha: float | None = None,
    min_sigma: float = 0.0,
    threshold: float = 2.0,
) -> DetectorResult:
    """EARS C1, C2, C3 (surveillance convention) or C3-textbook over all series at once."""
    if method not in GUARD:
        raise ValueError(f"unknown EARS method {method!r}")
    if baseline < 3:
        raise ValueError("minimum baseline is 3")
    if min_sigma < 0:
        raise ValueError("min_sigma must be ≥ 0")
    y = as_counts(counts)
    z = ndtri(1 - (DEFAULT_ALPHA[method] if alpha is None else alpha))
    mean, sd = baseline_moments(y, baseline, GUARD[method], min_sigma)
    start = baseline + GUARD[method]
    with np.errstate(divide="ignore", invalid="ignore"):
        if method in ("C1", "C2"):
            upper = mean + z * sd
            return DetectorResult(upper, _alarm(y, upper), start, (y - mean) / sd)
        c2 = (y - mean) / sd
        excess = np.maximum(0.0, c2 - 1.0)
        previous = np.full_like(y, np.nan)
        previous[:, 2:] = excess[:, 1:-1] + excess[:, :-2]  # p₁ + p₂ for each day
        start += 2
        if method == "C3":
            upper = np.maximum(0.0, y + sd * (z - previous))
            upper[:, :start] = np.nan
            return DetectorResult(upper, _alarm(y, upper), start, previous)
        statistic = previous + excess
        upper = mean + sd * (1.0 + np.maximum(0.0, threshold - previous))
        upper[:, :start] = np.nan
        statistic[:, :start] = np.nan
        alarm = np.where(np.isnan(statistic), False, statistic > threshold)
        return DetectorResult(upper, alarm, start, statistic)


def cusum(
    counts,
    baseline: int = 28,
    guard: int = 2,
    k: float = 0.5,
    h: float = 4.0,
    min_sigma: float = 0.5,
) -> DetectorResult:
    """Standardised upper CUSUM 累积和 on a moving baseline (Page 1954 with EARS-style reference).

    z_t = (y_t − mean_t) / sd_t with mean and sd of the ``baseline`` days ending ``guard`` days before t;
    S_t = max(0, S_{t−1} + z_t − k); alarm when S_t > h, after which S restarts at 0 (reset after
    signal). The upper bound is the count that would bring S_t to h: mean_t + sd_t·(h + k − S_{t−1}).
    The recursion runs over days; every step is vectorised over series.
    """
    y = as_counts(counts)
    mean, sd = baseline_moments(y, baseline, guard, min_sigma)
    start = baseline + guard
    z = (y - mean) / sd
    upper = np.full_like(y, np.nan)
    stat = np.full_like(y, np.nan)
    alarm = np.zeros(y.shape, dtype=bool)
    s_prev = np.zeros(y.shape[0])
    for t in range(start, y.shape[1]):
        upper[:, t] = mean[:, t] + sd[:, t] * (h + k - s_prev)
        s_t = np.maximum(0.0, s_prev + z[:, t] - k)
        stat[:, t] = s_t
        alarm[:, t] = s_t > h
        s_prev = np.where(alarm[:, t], 0.0, s_t)
    return DetectorResult(upper, alarm, start, stat)
