"""Farrington flexible method 改进Farrington算法 (and the Noufaily variant), vectorised over series.

Follows R ``surveillance::farringtonFlexible`` (1.20.3) step by step, for series indexed by
time point (no dates: the reference weeks of year i are t − i·freq, as for an sts without epochAsDate):

1. Reference data: windows of ±w around t − i·freq for i = 1..b, plus — when ``no_periods`` > 1 —
   the rest of each year cut into ``no_periods`` − 1 blocks (a seasonal factor 季节分段); the
   ``past_weeks_not_included`` most recent points and t itself are left out.
2. A quasi-Poisson log-linear GLM (intercept, optional time trend, seasonal factor) fitted by IRLS
   exactly as R's ``glm.fit`` does it (start μ = y + 0.1, deviance criterion 1e-8, at most 25
   iterations), so the bounds agree with R's to rounding. A model that does not converge with the
   trend is refitted without; one that does not converge at all yields no bound (NaN).
3. Reweighting 降权: Anscombe residuals s; weights ∝ s⁻² above ``weights_threshold``, refit;
   dispersion φ = max(1, Pearson χ² / df).
4. The trend is kept only if significant (t-test p < ``p_threshold_trend``), b ≥ 3 and the
   prediction does not exceed the largest reference count.
5. Upper bound: ``delta`` (Farrington 1996, 2/3-power transformation), ``nbPlugin`` (negative
   binomial quantile at the predicted mean, Noufaily 2013) or ``muan`` (negative binomial quantile at
   the upper confidence limit of the mean). An alarm needs the count above the bound, a non-zero
   count, and at least ``limit54[0]`` cases in the last ``limit54[1]`` points (else bound NaN).

R quirks kept on purpose, so that bounds and alarms are identical: the trend test and the standard
error of the prediction use the dispersion R's summary() computes after fitGLM.flexible replaced
model$weights by the reweighting weights ω, Σ ω·((y − μ)/μ)² / df, not max(1, ·); for nbPlugin/muan the
alarm score compares the count with the link-scale prediction, (y − η₀)/(U − η₀) > 1.

Population offsets are not supported (populationOffset = FALSE, the Noufaily setting).
The Python loop runs over the evaluated time points; everything inside is batched over series.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.special import betainc, gammaincc
from scipy.stats import norm
from scipy.stats import t as student_t

from .ears import DetectorResult, as_counts

EPS = np.finfo(float).eps
LOG_EPS = np.log(EPS)
MAXIT = 25
EPSILON = 1e-8
CHUNK = 4096  # series per batch: bounds memory at (chunk × reference points) arrays


@dataclass(frozen=True)
class FarringtonControl:
    """Settings, named after ``farringtonFlexible``'s control list; defaults are the package's."""

    b: int = 5
    w: int = 3
    reweight: bool = True
    weights_threshold: float = 2.58
    alpha: float = 0.05
    trend: bool = True
    p_threshold_trend: float = 0.05
    limit54: tuple[int, int] = (5, 4)
    powertrans: str = "2/3"
    no_periods: int = 1
    past_weeks_not_included: int | None = None
    threshold_method: str = "delta"


# Noufaily et al. 2013 (Stat Med 32:1206) as recommended in the package documentation.
NOUFAILY = FarringtonControl(
    weights_threshold=2.58, no_periods=10, past_weeks_not_included=26, threshold_method="nbPlugin"
)


def noufaily_control(**overrides) -> FarringtonControl:
    """The Noufaily variant 改进版 with optional overrides (e.g. b, alpha, limit54)."""
    return replace(NOUFAILY, **overrides)


def reference_design(k: int, freq: int, control: FarringtonControl):
    """Rows (0-based day indices) and design of the GLM for day ``k`` (0-based).

    Returns (rows, X, x0): X has columns intercept, time (centred on k), seasonal-factor dummies;
    x0 is the design row of day k itself (period ``no_periods``).
    """
    b, w, p = control.b, control.w, control.no_periods
    if k - b * freq - w < 0:
        raise ValueError("some reference time points do not exist; decrease b or start later")
    factors = np.full(k + 1, np.nan)
    factors[k - w : k + 1] = p
    for i in range(1, b + 1):
        ref = k - i * freq
        factors[ref - w : ref + w + 1] = p
        if p != 1:
            period = freq - 2 * w - 1
            if period < p - (2 * w + 1):
                raise ValueError("number of seasonal periods too big")
            lengths = np.full(p - 1, period // (p - 1))
            lengths[: period % (p - 1)] += 1
            edges = ref + w + 1 + np.concatenate([[0], np.cumsum(lengths)])
            for j in range(p - 1):
                factors[edges[j] : edges[j + 1]] = j + 1
    pwni = w if control.past_weeks_not_included is None else control.past_weeks_not_included
    factors[max(k - pwni, 0) : k + 1] = np.nan
    rows = np.flatnonzero(~np.isnan(factors))
    seasons = factors[rows]
    levels = np.unique(seasons)[1:]  # treatment contrasts: the lowest level is the reference
    X = np.column_stack([np.ones(rows.size), rows - k] + [seasons == lv for lv in levels]).astype(float)
    x0 = np.concatenate([[1.0, 0.0], (levels == p).astype(float)])
    return rows, X, x0


@dataclass
class _Fit:
    beta: np.ndarray  # (S, P), zero for columns not in a series' model
    mu: np.ndarray  # (S, n) fitted means
    work: np.ndarray  # (S, n) working weights of the last IRLS step (R's model$weights)
    cov: np.ndarray  # (S, P, P) unscaled covariance (XᵀWX)⁻¹, zero-padded
    converged: np.ndarray  # (S,)
    rank: np.ndarray  # (S,)
    has_trend: np.ndarray  # (S,)
    omega: np.ndarray | None = None  # (S, n) reweighting weights, when reweighted

    def dispersion(self, y):
        """Pearson χ² / df, R's summary(model)$dispersion of the fitted model."""
        return self._scaled_chi2(self.work, y)

    def reported_dispersion(self, y):
        """The dispersion R's summary/predict see after fitGLM.flexible replaced model$weights by omega."""
        return self._scaled_chi2(self.work if self.omega is None else self.omega, y)

    def _scaled_chi2(self, weights, y):
        return (weights * ((y - self.mu) / self.mu) ** 2).sum(axis=1) / (y.shape[1] - self.rank)


def _deviance(y, y_log_y, log_mu, mu, prior):
    """Quasi-Poisson deviance 2Σ w·(y log(y/μ) − (y − μ)), with y log y precomputed (0 for y = 0)."""
    return 2 * (prior * (y_log_y - y * log_mu - (y - mu))).sum(axis=1)


def _irls(X, y, prior):
    """Quasi-Poisson log-link IRLS as R's glm.fit, one system per series (rows of y)."""
    n_series, n = y.shape
    p = X.shape[1]
    outer = (X[:, :, None] * X[:, None, :]).reshape(n, p * p)
    mu = y + 0.1
    eta = np.log(mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        y_log_y = np.where(y > 0, y * np.log(y), 0.0)
    dev_old = _deviance(y, y_log_y, eta, mu, prior)
    beta = np.zeros((n_series, p))
    work = prior * mu
    cov = np.zeros((n_series, p, p))
    active = np.ones(n_series, dtype=bool)
    converged = np.zeros(n_series, dtype=bool)
    for _ in range(MAXIT):
        w = prior * mu  # mu.eta² / V(mu) for the log link
        z = eta + (y - mu) / mu
        a = (w @ outer).reshape(n_series, p, p)
        a_inv = np.linalg.inv(a)
        new_beta = np.einsum("spq,sq->sp", a_inv, (w * z) @ X)
        new_eta = new_beta @ X.T
        new_mu = np.maximum(np.exp(new_eta), EPS)
        dev = _deviance(y, y_log_y, np.maximum(new_eta, LOG_EPS), new_mu, prior)
        upd = active[:, None]
        beta = np.where(upd, new_beta, beta)
        eta = np.where(upd, new_eta, eta)
        mu = np.where(upd, new_mu, mu)
        work = np.where(upd, w, work)
        cov = np.where(upd[:, :, None], a_inv, cov)
        done = active & (np.abs(dev - dev_old) / (np.abs(dev) + 0.1) < EPSILON)
        converged |= done
        active &= ~done
        dev_old = np.where(active, dev, dev_old)
        if not active.any():
            break
    return beta, mu, work, cov, converged


def _glm(X, y, trend, prior=None):
    """Fit with the trend column where ``trend`` is True, without it elsewhere; zero-pad to X's width."""
    n_series = y.shape[0]
    P = X.shape[1]
    prior = np.ones_like(y) if prior is None else prior
    fit = _Fit(
        beta=np.zeros((n_series, P)),
        mu=np.ones_like(y),
        work=np.ones_like(y),
        cov=np.zeros((n_series, P, P)),
        converged=np.zeros(n_series, dtype=bool),
        rank=np.full(n_series, P - 1),
        has_trend=trend.copy(),
    )
    for with_trend in (True, False):
        sel = np.flatnonzero(trend == with_trend)
        if sel.size == 0:
            continue
        cols = np.arange(P) if with_trend else np.delete(np.arange(P), 1)
        beta, mu, work, cov, conv = _irls(X[:, cols], y[sel], prior[sel])
        fit.beta[np.ix_(sel, cols)] = beta
        fit.mu[sel], fit.work[sel], fit.converged[sel] = mu, work, conv
        fit.cov[np.ix_(sel, cols, cols)] = cov
        fit.rank[sel] = cols.size
    return fit


def _fit_flexible(X, y, trend, control):
    """R's algo.farrington.fitGLM.flexible: fit, fall back to no trend, reweight; returns (fit, phi, ok)."""
    fit = _glm(X, y, trend)
    retry = ~fit.converged & trend
    if retry.any():
        trend = trend & ~retry
        fit = _glm(X, y, trend)
    ok = fit.converged.copy()
    phi = np.maximum(fit.dispersion(y), 1.0)
    if control.reweight:
        outer = (X[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)
        hat = fit.work * (fit.cov.reshape(y.shape[0], -1) @ outer.T)  # w_i · x_iᵀ (XᵀWX)⁻¹ x_i
        with np.errstate(divide="ignore", invalid="ignore"):
            s = 1.5 * (y ** (2 / 3) * fit.mu ** (-1 / 6) - np.sqrt(fit.mu)) / np.sqrt(phi[:, None] * (1 - hat))
            high = s > control.weights_threshold
            inv_sq = np.where(high, s**-2.0, 1.0)
        gamma = y.shape[1] / inv_sq.sum(axis=1)
        omega = gamma[:, None] * inv_sq
        fit = _glm(X, y, trend, prior=omega)
        fit.omega = omega
        phi = np.maximum(fit.dispersion(y), 1.0)
    return fit, phi, ok


def _threshold(y_now, eta0, se_link, phi, control):
    """Upper bound and alarm score for the chosen threshold method."""
    z = norm.ppf(1 - control.alpha)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if control.threshold_method == "delta":
            mu0 = np.exp(eta0)
            se_resp = se_link * mu0
            tau = phi + se_resp**2 / mu0
            exponent, scale = {"none": (1.0, mu0), "1/2": (0.5, 0.25), "2/3": (2 / 3, 4 / 9 * mu0 ** (1 / 3))}[
                control.powertrans
            ]
            se = np.sqrt(scale * tau)
            upper = (mu0**exponent + z * se) ** (1 / exponent)
            return upper, (y_now - mu0) / (upper - mu0)
        mu_q = np.exp(eta0) if control.threshold_method == "nbPlugin" else np.exp(eta0 + z * se_link)
        upper = count_quantile(1 - control.alpha, mu_q, phi)
        return upper, (y_now - eta0) / (upper - eta0)


def count_quantile(q: float, mean: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Quantile of the negative binomial with this mean and variance φ·mean (Poisson where φ ≤ 1).

    R's qnbinom/qpois: the smallest k with P(X ≤ k) ≥ q·(1 − 64ε) (R's fuzz for left continuity),
    found by a vectorised doubling-and-bisection search on the regularised incomplete beta/gamma
    functions — scipy's nbinom.ppf can hang on the extreme sizes a quasi-Poisson fit produces.
    """
    target = q * (1 - 64 * EPS)
    valid = np.isfinite(mean) & (mean >= 0) & (mean < 1e15)
    m = np.where(valid, mean, 1.0)
    nb = phi > 1
    size = np.where(nb, m / np.where(nb, phi - 1, 1.0), 1.0)
    prob = np.where(nb, 1 / phi, 0.5)

    def cdf(k):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(nb, betainc(size, k + 1, prob), gammaincc(k + 1, m))

    sd = np.sqrt(m * np.maximum(phi, 1.0))
    hi = np.maximum(np.floor(m + 3 * sd), 1.0)
    while (low := (cdf(hi) < target) & valid).any():
        hi = np.where(low, hi * 2, hi)
    lo = np.full_like(hi, -1.0)  # invariant: cdf(lo) < target ≤ cdf(hi)
    while ((hi - lo > 1) & valid).any():
        mid = np.floor((lo + hi) / 2)
        above = cdf(mid) >= target
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    hi = np.where(m == 0, 0.0, hi)
    return np.where(valid, hi, np.nan)


def _evaluate_day(y, k, freq, control):
    """Bounds and alarms of day k for all series (rows of y)."""
    rows, X, x0 = reference_design(k, freq, control)
    resp = y[:, rows]
    n_series = y.shape[0]
    # With b < 3 R fits the trend model, then always refits without it (the trend needs 3 years);
    # a series fails only if the trend-free fit fails, so the trend fit can be skipped.
    use_trend = control.trend and control.b >= 3
    fit, phi, ok = _fit_flexible(X, resp, np.full(n_series, use_trend), control)
    if use_trend:
        disp = fit.reported_dispersion(resp)
        eta0 = fit.beta @ x0
        with np.errstate(divide="ignore", invalid="ignore"):
            t_value = fit.beta[:, 1] / np.sqrt(disp * fit.cov[:, 1, 1])
        p_value = 2 * student_t.sf(np.abs(t_value), rows.size - fit.rank)
        keep = fit.has_trend & (p_value < control.p_threshold_trend)
        keep &= np.exp(eta0) <= resp.max(axis=1)
        drop = fit.has_trend & ~keep
        if drop.any():
            sel = np.flatnonzero(drop)
            refit, rephi, reok = _fit_flexible(X, resp[sel], np.zeros(sel.size, dtype=bool), control)
            for name in ("beta", "mu", "work", "cov", "rank", "has_trend") + (("omega",) if control.reweight else ()):
                getattr(fit, name)[sel] = getattr(refit, name)
            phi[sel], ok[sel] = rephi, reok
    disp = fit.reported_dispersion(resp)
    eta0 = fit.beta @ x0
    se_link = np.sqrt(disp * np.einsum("p,spq,q->s", x0, fit.cov, x0))
    y_now = y[:, k]
    upper, score = _threshold(y_now, eta0, se_link, phi, control)
    cases, span = control.limit54
    enough = y[:, max(k - span + 1, 0) : k + 1].sum(axis=1) >= cases
    upper = np.where(enough & ok, upper, np.nan)
    with np.errstate(invalid="ignore"):
        alarm = enough & ok & ~np.isnan(score) & (score > 1) & (y_now != 0)
    return upper, alarm


def farrington_flexible(counts, freq: int, control: FarringtonControl | None = None, days=None) -> DetectorResult:
    """Farrington flexible bounds and alarms, shaped (series, days); ``days`` are 0-based indices.

    By default every day from b·freq + w (0-based) to the end is evaluated, as in the package.
    """
    control = control or FarringtonControl()
    if control.threshold_method not in ("delta", "nbPlugin", "muan"):
        raise ValueError(f"unknown threshold method {control.threshold_method!r}")
    y = as_counts(counts)
    if np.isnan(y).any():
        raise ValueError("Farrington needs complete series (use 0 for days without reports)")
    first = freq * control.b + control.w
    days = np.arange(first, y.shape[1]) if days is None else np.asarray(days)
    upper = np.full(y.shape, np.nan)
    alarm = np.zeros(y.shape, dtype=bool)
    for k in days:
        for lo in range(0, y.shape[0], CHUNK):
            upper[lo : lo + CHUNK, k], alarm[lo : lo + CHUNK, k] = _evaluate_day(
                y[lo : lo + CHUNK], int(k), freq, control
            )
    return DetectorResult(upper, alarm, int(days.min()) if days.size else y.shape[1])
