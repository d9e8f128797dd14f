"""Disproportionality analysis 药物警戒不相称性分析: counts, PRR, ROR, IC (BCPNN) and EBGM (MGPS).

Everything here is set-based NumPy/SciPy: a (report, drug, event) table goes in as integer codes, one
row per drug–event pair 药品–事件组合 comes out, and no Python loop runs over pairs or reports.

Counting (as openEBGM 0.9.1 ``processRaw`` does, see its documentation and the CAERS MANIFEST):

- a report 报告 counts once per pair however many rows repeat it;
- N = number of distinct reports holding the pair;
- E = n_drug · n_event / n_reports from distinct-report marginals; with strata 分层 E is computed within
  each stratum and summed, E = Σ_s n_drug,s · n_event,s / n_s (strata where the pair is absent count too).

The 2×2 table behind PRR, ROR and IC is the crude (unstratified) one, as vigipy builds it from the
same counts: a = N, b = n_drug − a, c = n_event − a, d = n_reports − a − b − c.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

Z975 = 1.959963984540054  # Φ⁻¹(0.975)
LOG2 = np.log(2.0)


# ---------------------------------------------------------------------------------------------------
# Counting 计数
# ---------------------------------------------------------------------------------------------------


@dataclass
class PairCounts:
    """Pair-level counts 组合计数; arrays are aligned, one entry per pair with N ≥ 1."""

    drug: np.ndarray  # drug code per pair (int64)
    event: np.ndarray  # event code per pair
    n: np.ndarray  # N: distinct reports with the pair
    n_drug: np.ndarray  # distinct reports with the drug (all strata)
    n_event: np.ndarray  # distinct reports with the event
    n_reports: int  # distinct reports in the table
    expected: np.ndarray  # E (stratified when strata were given)


def _distinct_sorted(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an int64 key array (np.sort + mask: cheaper than np.unique)."""
    keys = np.sort(keys)
    if keys.size == 0:
        return keys
    keep = np.empty(keys.size, dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]


def _runs(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted array and their run lengths (np.unique without its sort)."""
    if sorted_values.size == 0:
        return sorted_values, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    return sorted_values[starts], np.diff(np.r_[starts, sorted_values.size])


def _check_span(*sizes: int) -> None:
    if np.prod([float(s) for s in sizes]) >= 2.0**62:
        raise ValueError("编码空间过大（报告 × 药品 × 事件超出 int64），请先压缩编码")


STRATA_BLOCK = 4_000_000  # pairs × strata cells per block of the stratified E


def count_pairs(
    report: np.ndarray,
    drug: np.ndarray,
    event: np.ndarray,
    stratum: np.ndarray | None = None,
) -> PairCounts:
    """Count N, marginals and E from dense integer codes (0 … k−1) per row.

    Each count is one sort of an int64 key built from the codes, e.g. pair·n_reports + report for N,
    so repeated (report, drug, event) rows fall together and are counted once.
    """
    report = np.asarray(report, dtype=np.int64)
    drug = np.asarray(drug, dtype=np.int64)
    event = np.asarray(event, dtype=np.int64)
    nr = int(report.max()) + 1 if report.size else 0
    nd = int(drug.max()) + 1 if drug.size else 0
    ne = int(event.max()) + 1 if event.size else 0
    _check_span(nr, nd, ne)

    pair_code, n = _runs(_distinct_sorted((drug * ne + event) * nr + report) // nr)
    pair_drug, pair_event = np.divmod(pair_code, ne)
    n_reports = int(np.count_nonzero(np.bincount(report, minlength=nr)))
    n_drug = np.bincount(_distinct_sorted(drug * nr + report) // nr, minlength=nd)[pair_drug]
    n_event = np.bincount(_distinct_sorted(event * nr + report) // nr, minlength=ne)[pair_event]
    if stratum is None:
        expected = n_drug * (n_event / n_reports)
    else:
        expected = _stratified_expected(report, drug, event, np.asarray(stratum, dtype=np.int64), pair_drug, pair_event)
    return PairCounts(pair_drug, pair_event, n, n_drug, n_event, n_reports, expected)


def _stratified_expected(report, drug, event, stratum, pair_drug, pair_event) -> np.ndarray:
    """E = Σ_s n_drug,s · n_event,s / n_s, marginals from distinct (stratum, report) units.

    A report is counted in each stratum its rows carry (one stratum per report in well-formed data).
    """
    nr, nd, ne, ns = (int(a.max()) + 1 for a in (report, drug, event, stratum))
    _check_span(nr, max(nd, ne), ns)
    n_s = np.bincount(_distinct_sorted(stratum * nr + report) // nr, minlength=ns).astype(np.float64)
    share = np.divide(1.0, n_s, out=np.zeros(ns), where=n_s > 0)
    d_s = np.bincount(_distinct_sorted((drug * ns + stratum) * nr + report) // nr, minlength=nd * ns)
    e_s = np.bincount(_distinct_sorted((event * ns + stratum) * nr + report) // nr, minlength=ne * ns)
    d_s = d_s.reshape(nd, ns) * share
    e_s = e_s.reshape(ne, ns)
    # Row-wise dot products in blocks so that pairs × strata stays small.
    expected = np.empty(pair_drug.size)
    block = max(1, STRATA_BLOCK // ns)
    for lo in range(0, pair_drug.size, block):  # a handful of blocks, not a loop over pairs
        sl = slice(lo, lo + block)
        expected[sl] = np.einsum("ij,ij->i", d_s[pair_drug[sl]], e_s[pair_event[sl]])
    return expected


# ---------------------------------------------------------------------------------------------------
# Frequentist measures 频数法: PRR, ROR, IC
# ---------------------------------------------------------------------------------------------------


@dataclass
class RatioMeasures:
    prr: np.ndarray
    prr_chi2: np.ndarray
    prr_lo: np.ndarray
    prr_hi: np.ndarray
    ror: np.ndarray
    ror_lo: np.ndarray
    ror_hi: np.ndarray
    ic: np.ndarray
    ic025: np.ndarray
    ic975: np.ndarray


def _two_by_two(c: PairCounts):
    a = c.n.astype(np.float64)
    b = c.n_drug - a
    cc = c.n_event - a
    d = c.n_reports - a - b - cc
    return a, b, cc, d


def _exp_ci(log_value: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(over="ignore"):
        return np.exp(log_value - Z975 * se), np.exp(log_value + Z975 * se)


def ratio_measures(c: PairCounts) -> RatioMeasures:
    """PRR with Yates χ² and 95 % CI, ROR with 95 % CI, IC with IC025/IC975 for every pair.

    2×2 table a, b, c, d as in the module docstring.

    - PRR 比例报告比 = [a/(a+b)] / [c/(c+d)]; 95 % CI = exp(ln PRR ± 1.96·√(1/a − 1/(a+b) + 1/c − 1/(c+d)))
      (Evans, Waller & Davis 2001, Pharmacoepidemiol Drug Saf 10:483).
    - χ² with Yates' correction, on the uncorrected table: n(|ad − bc| − n/2)² / [(a+b)(c+d)(a+c)(b+d)]
      (Evans 2001; the statistic behind the criterion χ² ≥ 4). NaN where a margin is 0;
      |ad − bc| − n/2 is clipped at 0.
    - ROR 报告比值比 = ad / bc; 95 % CI = exp(ln ROR ± 1.96·√(1/a + 1/b + 1/c + 1/d)) (Woolf;
      van Puijenbroek et al. 2002).
    - Zero cells: as vigipy 3.5, a table with any zero cell gets 0.5 added to all four cells
      (Haldane–Anscombe) before PRR, ROR and their CIs, so they stay finite and match vigipy.
    - IC 信息成分 (BCPNN; Bate et al. 1998, Norén et al. 2006): the posterior expectation of
      log2 p11/(p1·p·1) under Beta priors, in the closed form vigipy implements (Gould 2003):
      with p1 = 1 + n_drug, p2 = 1 + n − n_drug, q1 = 1 + n_event, q2 = 1 + n − n_event, r1 = 1 + a,
      r2 = n − a − 1 + (n + 2)² / (p1·q1):
      IC = [ψ(r1) − ψ(r1 + r2) − ψ(p1) + ψ(p1 + p2) − ψ(q1) + ψ(q1 + q2)] / ln 2,
      Var = [ψ′(r1) − ψ′(r1 + r2) + ψ′(p1) − ψ′(p1 + p2) + ψ′(q1) − ψ′(q1 + q2)] / (ln 2)²,
      IC025/IC975 = IC ∓ 1.96·√Var (normal approximation, as vigipy's quantile). This is chosen over
      the shrinkage shortcut log2((a + 0.5)/(E + 0.5)) so that IC agrees with vigipy on the same counts.
    """
    a, b, cc, d = _two_by_two(c)
    n = float(c.n_reports)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Yates' term is clipped at 0: when |ad − bc| < n/2 the corrected statistic is 0.
        chi2 = n * np.maximum(np.abs(a * d - b * cc) - n / 2, 0.0) ** 2 / ((a + b) * (cc + d) * (a + cc) * (b + d))
    zero = (a <= 0) | (b <= 0) | (cc <= 0) | (d <= 0)
    adj = np.where(zero, 0.5, 0.0)
    a1, b1, c1, d1 = a + adj, b + adj, cc + adj, d + adj

    log_prr = np.log(a1 / (a1 + b1)) - np.log(c1 / (c1 + d1))
    se_prr = np.sqrt(np.maximum(1 / a1 - 1 / (a1 + b1) + 1 / c1 - 1 / (c1 + d1), 0.0))
    prr_lo, prr_hi = _exp_ci(log_prr, se_prr)

    log_ror = np.log(a1) + np.log(d1) - np.log(b1) - np.log(c1)
    se_ror = np.sqrt(1 / a1 + 1 / b1 + 1 / c1 + 1 / d1)
    ror_lo, ror_hi = _exp_ci(log_ror, se_ror)

    ic, ic_sd = _bcpnn(c.n_drug, c.n_event, c.n, n)
    return RatioMeasures(
        prr=np.exp(log_prr),
        prr_chi2=chi2,
        prr_lo=prr_lo,
        prr_hi=prr_hi,
        ror=np.exp(log_ror),
        ror_lo=ror_lo,
        ror_hi=ror_hi,
        ic=ic,
        ic025=ic - Z975 * ic_sd,
        ic975=ic + Z975 * ic_sd,
    )


def on_distinct(func, ints: np.ndarray) -> np.ndarray:
    """func evaluated once per distinct value of a non-negative integer array, gathered back.

    Counts repeat heavily across pairs (N, n_drug, n_event), and the special functions are the cost;
    a lookup table indexed by the value avoids both the repeats and a sort.
    """
    ints = np.asarray(ints, dtype=np.int64)
    if ints.size == 0:
        return np.zeros(0)
    present = np.zeros(int(ints.max()) + 1, dtype=bool)
    present[ints] = True
    values = np.flatnonzero(present)
    table = np.zeros(present.size)
    table[values] = func(values.astype(np.float64))
    return table[ints]


def _trigamma(x):
    return special.polygamma(1, x)


def _bcpnn(n_drug: np.ndarray, n_event: np.ndarray, a: np.ndarray, n: float) -> tuple[np.ndarray, np.ndarray]:
    # p1 + p2 = q1 + q2 = n + 2, a constant; p1, q1 and r1 depend on one count each (see on_distinct).
    p1, q1 = 1.0 + n_drug, 1.0 + n_event
    r12 = n + (n + 2) ** 2 / (p1 * q1)  # r1 + r2
    dg, tg = special.digamma, _trigamma
    ic = (
        on_distinct(lambda v: dg(1 + v), a)
        - dg(r12)
        - on_distinct(lambda v: dg(1 + v), n_drug)
        - on_distinct(lambda v: dg(1 + v), n_event)
        + 2 * dg(n + 2)
    ) / LOG2
    var = (
        on_distinct(lambda v: tg(1 + v), a)
        - tg(r12)
        + on_distinct(lambda v: tg(1 + v), n_drug)
        + on_distinct(lambda v: tg(1 + v), n_event)
        - 2 * tg(n + 2)
    ) / LOG2**2
    return ic, np.sqrt(np.maximum(var, 0.0))


# ---------------------------------------------------------------------------------------------------
# MGPS / EBGM 多项伽马泊松收缩估计 (DuMouchel 1999)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prior:
    """Two-component gamma-mixture prior 先验 λ ~ P·Γ(α1, β1) + (1 − P)·Γ(α2, β2) (rate β)."""

    alpha1: float
    beta1: float
    alpha2: float
    beta2: float
    p: float
    log_likelihood: float = float("nan")  # truncated marginal log-likelihood at the fit (with log N! terms)
    n_star: int = 1

    def as_dict(self) -> dict:
        return {
            "alpha1": self.alpha1,
            "beta1": self.beta1,
            "alpha2": self.alpha2,
            "beta2": self.beta2,
            "P": self.p,
            "log_likelihood": self.log_likelihood,
            "N_star": self.n_star,
        }


@dataclass
class _Profile:
    """Pairs folded to distinct (N, E) with weights: the likelihood is unchanged, and cheaper."""

    n: np.ndarray
    e: np.ndarray
    w: np.ndarray
    log_n_fact: float  # Σ w·ln N!, the constant that makes the log-likelihood comparable with openEBGM's

    def __post_init__(self):
        # Distinct counts and the gather index: the Γ-function terms depend on N only.
        self.distinct_n, self.index_n = np.unique(self.n, return_inverse=True)
        self.log_e = np.log(self.e)

    @classmethod
    def build(cls, n: np.ndarray, e: np.ndarray, n_star: int) -> _Profile:
        keep = n >= n_star
        n, e = n[keep], e[keep]
        order = np.lexsort((e, n))
        n, e = n[order], e[order]
        new = np.ones(n.size, dtype=bool)
        new[1:] = (n[1:] != n[:-1]) | (e[1:] != e[:-1])
        starts = np.flatnonzero(new)
        w = np.diff(np.append(starts, n.size)).astype(np.float64)
        n, e = n[starts].astype(np.float64), e[starts]
        return cls(n, e, w, float((w * special.gammaln(n + 1)).sum()))

    def squashed(self, width: float) -> _Profile:
        """Pairs with the same N and ln E within the same ``width`` bin merged, E averaged by weight.

        Data squashing in the sense of DuMouchel & Pregibon (2001); used here only to explore the
        starting points cheaply; the reported fit is always polished on the full profile.
        """
        cell = np.floor((self.log_e - self.log_e.min()) / width).astype(np.int64)
        key = self.index_n * (int(cell.max()) + 1) + cell
        w = np.bincount(key, weights=self.w)
        used = np.flatnonzero(w)
        e = np.bincount(key, weights=self.w * self.e)[used] / w[used]
        n = self.distinct_n[used // (int(cell.max()) + 1)]
        return _Profile(n, e, w[used], self.log_n_fact)


def _component(alpha: float, beta: float, prof: _Profile, n_star: int):
    """Log of the zero-truncated negative binomial of one component, with d/d ln α and d/d ln β.

    f(n) = Γ(α+n)/(Γ(α) n!) · (β/(β+E))^α · (E/(β+E))^n  (DuMouchel 1999, eq. 5), divided by
    1 − Σ_{j<N*} f(j) (DuMouchel & Pregibon 2001; openEBGM ``negLL``). The Γ-ratio depends on n only,
    so it is evaluated on the distinct n and gathered.
    """
    e, ln, inv = prof.e, prof.distinct_n, prof.index_n
    log_be = np.log(beta + e)
    u = np.log(beta) - log_be  # ln β/(β+E) < 0
    v = prof.log_e - log_be  # ln E/(β+E)
    du_db = e / (beta * (beta + e))
    g = (special.gammaln(alpha + ln) - special.gammaln(alpha))[inv]
    dg = (special.digamma(alpha + ln) - special.digamma(alpha))[inv]
    logf = g + alpha * u + prof.n * v
    dlogf_da = dg + u
    dlogf_db = alpha * du_db - prof.n / (beta + e)

    # Truncation mass 1 − Σ_{j<N*} f(j); j = 0 through expm1 to keep precision when E is tiny.
    t0 = alpha * u
    tail = -np.expm1(t0)
    dtail_da = -np.exp(t0) * u
    dtail_db = -np.exp(t0) * alpha * du_db
    log_gj = 0.0
    for j in range(1, n_star):  # loop over the few truncated counts j, not over pairs
        log_gj += np.log(alpha + j - 1) - np.log(j)
        fj = np.exp(log_gj + t0 + j * v)
        tail -= fj
        dtail_da -= fj * (special.digamma(alpha + j) - special.digamma(alpha) + u)
        dtail_db -= fj * (alpha * du_db - j / (beta + e))
    log_tail = np.log(tail)
    logl = logf - log_tail
    d_la = alpha * (dlogf_da - dtail_da / tail)
    d_lb = beta * (dlogf_db - dtail_db / tail)
    return logl, d_la, d_lb


def _neg_loglik(theta: np.ndarray, prof: _Profile, n_star: int):
    """−log L and its gradient in θ = (ln α1, ln β1, ln α2, ln β2, logit P)."""
    theta = np.clip(theta, -_THETA_LIMIT, _THETA_LIMIT)
    a1, b1, a2, b2 = np.exp(theta[:4])
    p = special.expit(theta[4])
    l1, da1, db1 = _component(a1, b1, prof, n_star)
    l2, da2, db2 = _component(a2, b2, prof, n_star)
    x1 = np.log(p) + l1
    x2 = np.log1p(-p) + l2
    ll = np.logaddexp(x1, x2)
    r = np.exp(x1 - ll)  # posterior weight of component 1 (Qn, without truncation)
    w = prof.w
    wr = w * r
    w1r = w - wr
    # Plain ufunc reductions rather than np.dot: BLAS threads spin badly on a busy shared machine.
    grad = np.array(
        [
            (wr * da1).sum(),
            (wr * db1).sum(),
            (w1r * da2).sum(),
            (w1r * db2).sum(),
            (wr - w * p).sum(),
        ]
    )
    return -(w * ll).sum(), -grad


# Starting points (α1, β1, α2, β2, P): a spread over "most pairs near RR 1" and "a minority far above".
_STARTS = (
    (0.2, 0.1, 2.0, 4.0, 1 / 3),
    (0.1, 0.1, 10.0, 10.0, 0.2),
    (0.5, 0.5, 5.0, 5.0, 0.5),
    (3.0, 0.5, 2.0, 2.0, 0.1),
    (1.0, 0.2, 1.0, 1.0, 0.05),
)


_THETA_LIMIT = np.array([12.0, 12.0, 12.0, 12.0, 20.0])  # |ln α|, |ln β| ≤ 12, |logit P| ≤ 20


def _minimise(prof: _Profile, n_star: int, x0: np.ndarray):
    # BFGS rather than L-BFGS-B: the latter's Fortran calls multithreaded BLAS on 5-vectors, which
    # spins badly on a busy 2-core machine. θ is unconstrained; _neg_loglik clips it to sane limits.
    return optimize.minimize(
        _neg_loglik, x0, args=(prof, n_star), jac=True, method="BFGS", options={"gtol": 1e-6, "maxiter": 2000}
    )


def _polish(prof: _Profile, n_star: int, x: np.ndarray, hessian: np.ndarray, max_iter: int = 20):
    """Newton steps on the full profile with a fixed Hessian (from the squashed profile near x).

    Each step costs one full gradient; the squashed Hessian is close enough to the full one that the
    steps contract fast. Stops when the predicted decrease is below 1e-9 (absolute, on −log L).
    """
    f, g = _neg_loglik(x, prof, n_star)
    for _ in range(max_iter):
        step = np.linalg.solve(hessian, g)
        if abs(np.dot(g, step)) < 1e-9:
            break
        f_new, g_new = _neg_loglik(x - step, prof, n_star)
        if not f_new <= f + 1e-9:
            return None
        x, f, g = x - step, f_new, g_new
    else:
        return None
    return optimize.OptimizeResult(x=x, fun=f, jac=g)


def _hessian(prof: _Profile, n_star: int, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    cols = [
        (_neg_loglik(x + h * d, prof, n_star)[1] - _neg_loglik(x - h * d, prof, n_star)[1]) / (2 * h) for d in np.eye(5)
    ]
    hess = np.array(cols)
    return (hess + hess.T) / 2


SQUASH_ABOVE = 20_000  # profiles larger than this explore their starting points on a squashed copy
SQUASH_WIDTH = 0.005  # bin width in ln E for that copy (E within a bin differs by 0.5 %)


def fit_prior(n: np.ndarray, e: np.ndarray, n_star: int = 1, starts=_STARTS) -> Prior:
    """Maximum-likelihood hyperparameters of the MGPS prior 先验超参数的极大似然估计.

    Maximises Σ log[P·f1*(N) + (1 − P)·f2*(N)] over the pairs with N ≥ N*, f* the negative binomials
    truncated below N* (DuMouchel 1999 eq. 12; DuMouchel & Pregibon 2001; openEBGM ``negLL``). The
    optimum is that of the full, unsquashed likelihood: pairs sharing (N, E) are merged with a weight,
    which changes nothing. BFGS with the analytic gradient runs from several starts; on large tables
    the starts run on a finely squashed copy (``_Profile.squashed``). The best is then polished on
    the full profile by Newton steps with a finite-difference Hessian (BFGS on the full profile if
    those fail). Components are ordered so
    that P ≤ 0.5 (the mixture is symmetric under swapping them).
    """
    prof = _Profile.build(np.asarray(n), np.asarray(e, dtype=np.float64), n_star)
    if prof.w.size == 0:
        raise ValueError(f"没有 N ≥ {n_star} 的组合，无法估计先验")
    explore = prof.squashed(SQUASH_WIDTH) if prof.w.size > SQUASH_ABOVE else prof
    best = None
    with np.errstate(over="ignore", under="ignore"):
        for start in starts:
            x0 = np.r_[np.log(start[:4]), special.logit(start[4])]
            res = _minimise(explore, n_star, x0)
            if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
                best = res
        if best is not None:
            hessian = _hessian(explore, n_star, best.x)
            polished = _polish(prof, n_star, best.x, hessian) if np.all(np.linalg.eigvalsh(hessian) > 0) else None
            if polished is None and explore is not prof:
                polished = _minimise(prof, n_star, best.x)
            best = polished or best
    if best is None or not np.isfinite(best.fun):
        raise ValueError("先验估计未收敛")
    a1, b1, a2, b2 = np.exp(best.x[:4])
    p = float(special.expit(best.x[4]))
    if p > 0.5:
        a1, b1, a2, b2, p = a2, b2, a1, b1, 1 - p
    return Prior(float(a1), float(b1), float(a2), float(b2), p, float(-best.fun - prof.log_n_fact), n_star)


def log_likelihood(prior: Prior, n: np.ndarray, e: np.ndarray, n_star: int = 1) -> float:
    """Truncated marginal log-likelihood of a given prior (with the ln N! terms), e.g. openEBGM's."""
    prof = _Profile.build(np.asarray(n), np.asarray(e, dtype=np.float64), n_star)
    theta = np.r_[np.log([prior.alpha1, prior.beta1, prior.alpha2, prior.beta2]), special.logit(prior.p)]
    return float(-_neg_loglik(theta, prof, n_star)[0] - prof.log_n_fact)


@dataclass
class EbScores:
    qn: np.ndarray
    ebgm: np.ndarray
    eb05: np.ndarray
    eb95: np.ndarray


def eb_scores(prior: Prior, n: np.ndarray, e: np.ndarray, quantiles=(0.05, 0.95)) -> EbScores:
    """Posterior of λ = μ/E per pair and its summaries (DuMouchel 1999 eqs. 6–11).

    Given N = n the posterior is Qn·Γ(α1+n, β1+E) + (1 − Qn)·Γ(α2+n, β2+E), with
    Qn = P f1(n) / [P f1(n) + (1 − P) f2(n)] from the untruncated negative binomials (eq. 6; openEBGM
    ``Qn``). EBGM 经验贝叶斯几何均数 = exp(E[ln λ]) with E[ln λ] = Qn[ψ(α1+n) − ln(β1+E)] +
    (1 − Qn)[ψ(α2+n) − ln(β2+E)] (eqs. 9–11). EB05/EB95 solve Qn·F1(x) + (1 − Qn)·F2(x) = q, where
    F_k are the regularised gamma CDFs (openEBGM ``quantBisect`` bisects the same equation; here it is
    solved to ~1e-12 relative).
    """
    n = np.asarray(n, dtype=np.int64)
    e = np.asarray(e, dtype=np.float64)
    # Scores depend on (n, E) only, and many pairs share both (small marginals repeat): score each
    # distinct (n, E) once and gather back.
    order = np.lexsort((e, n))
    new = np.r_[True, (np.diff(n[order]) != 0) | (np.diff(e[order]) != 0)]
    back = np.empty(n.size, dtype=np.int64)
    back[order] = np.cumsum(new) - 1
    n, e = n[order][new], e[order][new]
    nf = n.astype(np.float64)
    comps = []
    for alpha, beta, weight in ((prior.alpha1, prior.beta1, prior.p), (prior.alpha2, prior.beta2, 1 - prior.p)):
        log_b = np.log(beta + e)
        # ln[w·f(n)] up to the ln n! shared by both components (it cancels in Qn)
        log_wf = (
            np.log(weight)
            + on_distinct(lambda v, a=alpha: special.gammaln(a + v) - special.gammaln(a), n)
            + alpha * (np.log(beta) - log_b)
            + nf * (np.log(e) - log_b)
        )
        elog = on_distinct(lambda v, a=alpha: special.digamma(a + v), n) - log_b
        comps.append((alpha, beta + e, log_wf, elog))
    (a1, b1, x1, el1), (a2, b2, x2, el2) = comps
    qn = np.exp(x1 - np.logaddexp(x1, x2))
    ebgm = np.exp(qn * el1 + (1 - qn) * el2)
    lo, hi = (_mixture_gamma_quantile(q, qn, n, a1, b1, a2, b2) for q in quantiles)
    return EbScores(qn[back], ebgm[back], lo[back], hi[back])


def _mixture_gamma_quantile(q, w, n, alpha1, b1, alpha2, b2, tol: float = 1e-5, max_iter: int = 60) -> np.ndarray:
    """Solve w·F(α1+n, b1·x) + (1 − w)·F(α2+n, b2·x) = q for x, vectorised over pairs.

    F(a, ·) is the regularised lower incomplete gamma function, so component k's own quantile is
    F⁻¹(αk+n, q)/bk — one inversion per distinct n, not per pair. The root lies between the two
    component quantiles (the mixture CDF is below q at the smaller, above it at the larger): that is
    the bracket. The start is the Wilson–Hilferty quantile of the gamma with the mixture's mean and
    variance; Halley steps in y = ln x follow (G(y) = F − q, G′ = Σ w_k t_k^a_k e^(−t_k)/Γ(a_k),
    G″ = Σ w_k (a_k − t_k)·t_k^a_k e^(−t_k)/Γ(a_k), t_k = b_k·x), with bisection whenever a step
    leaves the bracket. Convergence is cubic, so once the Newton distance g/G′ is below ``tol`` (1e-5 in
    ln x) the Halley step just taken leaves an error of order 1e-13 relative. Pairs leave the active set
    once converged.
    """
    x1 = on_distinct(lambda v: special.gammaincinv(alpha1 + v, q), n) / b1
    x2 = on_distinct(lambda v: special.gammaincinv(alpha2 + v, q), n) / b2
    lo, hi = np.log(np.minimum(x1, x2)), np.log(np.maximum(x1, x2))
    a1, a2 = alpha1 + n, alpha2 + n
    mean = w * a1 / b1 + (1 - w) * a2 / b2
    var = w * a1 * (a1 + 1) / b1**2 + (1 - w) * a2 * (a2 + 1) / b2**2 - mean**2
    shape = mean**2 / np.maximum(var, 1e-300)
    with np.errstate(invalid="ignore", divide="ignore"):
        wh = np.log(mean / shape) + 3 * np.log1p(-1 / (9 * shape) + special.ndtri(q) / (3 * np.sqrt(shape)))
    y = np.where(np.isfinite(wh) & (wh > lo) & (wh < hi), wh, 0.5 * (lo + hi))
    x = np.exp(y)
    active = np.flatnonzero(hi - lo > 1e-14)
    y, lo, hi, wa, b1a, b2a = y[active], lo[active], hi[active], w[active], b1[active], b2[active]
    a1a, a2a = a1[active], a2[active]
    lg1 = on_distinct(lambda v: special.gammaln(alpha1 + v), n[active])
    lg2 = on_distinct(lambda v: special.gammaln(alpha2 + v), n[active])
    for _ in range(max_iter):
        if active.size == 0:
            break
        t1, t2 = b1a * np.exp(y), b2a * np.exp(y)
        g = wa * special.gammainc(a1a, t1) + (1 - wa) * special.gammainc(a2a, t2) - q
        d1 = wa * np.exp(a1a * np.log(t1) - t1 - lg1)
        d2 = (1 - wa) * np.exp(a2a * np.log(t2) - t2 - lg2)
        g1 = d1 + d2
        g2 = (a1a - t1) * d1 + (a2a - t2) * d2
        below = g < 0
        lo = np.where(below, y, lo)
        hi = np.where(below, hi, y)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            newton = g / g1
            step = 2 * g * g1 / (2 * g1 * g1 - g * g2)
        # Far from the root of a very peaked mixture (shape ~1e5) g·G″ swamps Halley's denominator and
        # its step shrinks to ~2/(a − t) without g shrinking: take Newton's step there (or bisect).
        step = np.where(np.abs(step) < 0.5 * np.abs(newton), newton, step)
        y_new = y - step
        bad = ~np.isfinite(y_new) | (y_new < lo) | (y_new > hi)
        y_new = np.where(bad, 0.5 * (lo + hi), y_new)
        # Converged when Newton's step (the distance to the root to first order) is below tol.
        done = (~bad & (np.abs(newton) <= tol)) | (hi - lo <= 1e-14) | (g == 0)
        x[active] = np.exp(y_new)
        keep = ~done
        active, y, lo, hi, wa, b1a, b2a = active[keep], y_new[keep], lo[keep], hi[keep], wa[keep], b1a[keep], b2a[keep]
        a1a, a2a, lg1, lg2 = a1a[keep], a2a[keep], lg1[keep], lg2[keep]
    return x


# ---------------------------------------------------------------------------------------------------
# Signal criteria 信号判定标准 and the whole pipeline
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignalCriteria:
    """Thresholds; a pair is flagged per method when it meets that method's rule.

    PRR: PRR ≥ prr and χ² ≥ chi2 and N ≥ n (Evans 2001); ROR: ROR025 > ror025 (van Puijenbroek 2002);
    IC: IC025 > ic025 (Bate/Norén, WHO-UMC); EBGM: EB05 ≥ eb05 (Szarfman et al. 2002).
    """

    prr: float = 2.0
    chi2: float = 4.0
    n: int = 3
    ror025: float = 1.0
    ic025: float = 0.0
    eb05: float = 2.0

    KEYS = ("prr", "chi2", "n", "ror025", "ic025", "eb05")

    @classmethod
    def parse(cls, items: list[str] | None) -> SignalCriteria:
        """From KEY=VALUE strings, e.g. ["prr=3", "eb05=2.5"]; unknown keys are an error."""
        values = {}
        for item in items or []:
            key, sep, raw = item.partition("=")
            key = key.strip().lower()
            if not sep or key not in cls.KEYS:
                raise ValueError(f"无法识别的判定标准 {item!r}，应为 KEY=VALUE，KEY 取 {', '.join(cls.KEYS)}")
            try:
                values[key] = int(raw) if key == "n" else float(raw)
            except ValueError:
                raise ValueError(f"判定标准 {key} 的取值 {raw!r} 不是数字") from None
        return cls(**values)

    def flags(self, n: np.ndarray, m: RatioMeasures, eb: EbScores) -> dict[str, np.ndarray]:
        with np.errstate(invalid="ignore"):
            return {
                "PRR": (m.prr >= self.prr) & (m.prr_chi2 >= self.chi2) & (n >= self.n),
                "ROR": m.ror_lo > self.ror025,
                "IC": m.ic025 > self.ic025,
                "EBGM": eb.eb05 >= self.eb05,
            }


@dataclass
class Analysis:
    counts: PairCounts
    ratios: RatioMeasures
    prior: Prior
    eb: EbScores
    flags: dict[str, np.ndarray] = field(default_factory=dict)


def analyse(
    report: np.ndarray,
    drug: np.ndarray,
    event: np.ndarray,
    stratum: np.ndarray | None = None,
    *,
    prior: Prior | None = None,
    n_star: int = 1,
    criteria: SignalCriteria | None = None,
) -> Analysis:
    """Every measure for every pair: counts → PRR/ROR/IC → prior fit (unless given) → EBGM, EB05, EB95."""
    counts = count_pairs(report, drug, event, stratum)
    ratios = ratio_measures(counts)
    if prior is None:
        prior = fit_prior(counts.n, counts.expected, n_star=n_star)
    elif np.isnan(prior.log_likelihood):
        ll = log_likelihood(prior, counts.n, counts.expected, n_star)
        prior = Prior(prior.alpha1, prior.beta1, prior.alpha2, prior.beta2, prior.p, ll, n_star)
    eb = eb_scores(prior, counts.n, counts.expected)
    flags = (criteria or SignalCriteria()).flags(counts.n, ratios, eb)
    return Analysis(counts, ratios, prior, eb, flags)
