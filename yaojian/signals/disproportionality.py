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


def _check_span(*sizes: int) -> None:
    if np.prod([float(s) for s in sizes]) >= 2.0**62:
        raise ValueError("编码空间过大（报告 × 药品 × 事件超出 int64），请先压缩编码")


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

    pair_rep = _distinct_sorted((drug * ne + event) * nr + report)
    pair_code, n = np.unique(pair_rep // nr, return_counts=True)
    pair_drug, pair_event = np.divmod(pair_code, ne)

    if stratum is None:
        n_reports = int(np.unique(report).size)
        n_drug = np.bincount(_distinct_sorted(drug * nr + report) // nr, minlength=nd)
        n_event = np.bincount(_distinct_sorted(event * nr + report) // nr, minlength=ne)
        nd_p, ne_p = n_drug[pair_drug], n_event[pair_event]
        expected = nd_p * (ne_p / n_reports)
        return PairCounts(pair_drug, pair_event, n, nd_p, ne_p, n_reports, expected)

    stratum = np.asarray(stratum, dtype=np.int64)
    ns = int(stratum.max()) + 1
    _check_span(nr, max(nd, ne), ns)
    # Marginals per stratum: distinct (stratum, report) units, so a report is counted in each stratum
    # its rows carry (one stratum per report in well-formed data).
    units = _distinct_sorted(stratum * nr + report) // nr
    n_s = np.bincount(units, minlength=ns).astype(np.float64)
    d_s = np.bincount(_distinct_sorted((drug * ns + stratum) * nr + report) // nr, minlength=nd * ns)
    e_s = np.bincount(_distinct_sorted((event * ns + stratum) * nr + report) // nr, minlength=ne * ns)
    d_s = d_s.reshape(nd, ns)
    e_s = e_s.reshape(ne, ns)
    share = np.divide(1.0, n_s, out=np.zeros(ns), where=n_s > 0)
    # E = Σ_s d_s · e_s / n_s, evaluated as a row-wise dot product (strata are few; pairs are many).
    expected = np.einsum("ij,ij->i", d_s[pair_drug] * share, e_s[pair_event].astype(np.float64))
    n_reports = int(np.unique(report).size)
    n_drug = np.bincount(_distinct_sorted(drug * nr + report) // nr, minlength=nd)[pair_drug]
    n_event = np.bincount(_distinct_sorted(event * nr + report) // nr, minlength=ne)[pair_event]
    return PairCounts(pair_drug, pair_event, n, n_drug, n_event, n_reports, expected)


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

    ic, ic_sd = _bcpnn(c.n_drug.astype(np.float64), c.n_event.astype(np.float64), a, n)
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


def _bcpnn(n_drug: np.ndarray, n_event: np.ndarray, a: np.ndarray, n: float) -> tuple[np.ndarray, np.ndarray]:
    p1, p2 = 1 + n_drug, 1 + n - n_drug
    q1, q2 = 1 + n_event, 1 + n - n_event
    r1 = 1 + a
    r2 = n - a - 1 + (n + 2) ** 2 / (p1 * q1)
    dg, tg = special.digamma, lambda x: special.polygamma(1, x)
    ic = (dg(r1) - dg(r1 + r2) - dg(p1) + dg(p1 + p2) - dg(q1) + dg(q1 + q2)) / LOG2
    var = (tg(r1) - tg(r1 + r2) + tg(p1) - tg(p1 + p2) + tg(q1) - tg(q1 + q2)) / LOG2**2
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
        return cls(n, e, w, float(np.dot(w, special.gammaln(n + 1))))


def _component(alpha: float, beta: float, prof: _Profile, n_star: int, ln: np.ndarray, inv: np.ndarray):
    """Log of the zero-truncated negative binomial of one component, with d/d ln α and d/d ln β.

    f(n) = Γ(α+n)/(Γ(α) n!) · (β/(β+E))^α · (E/(β+E))^n  (DuMouchel 1999, eq. 5), divided by
    1 − Σ_{j<N*} f(j) (DuMouchel & Pregibon 2001; openEBGM ``negLL``). The Γ-ratio depends on n only,
    so it is evaluated on the distinct n and gathered (``ln``: distinct n values, ``inv``: gather index).
    """
    e = prof.e
    log_be = np.log(beta + e)
    u = np.log(beta) - log_be  # ln β/(β+E) < 0
    v = np.log(e) - log_be  # ln E/(β+E)
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


def _neg_loglik(theta: np.ndarray, prof: _Profile, n_star: int, ln: np.ndarray, inv: np.ndarray):
    """−log L and its gradient in θ = (ln α1, ln β1, ln α2, ln β2, logit P)."""
    a1, b1, a2, b2 = np.exp(theta[:4])
    p = special.expit(theta[4])
    l1, da1, db1 = _component(a1, b1, prof, n_star, ln, inv)
    l2, da2, db2 = _component(a2, b2, prof, n_star, ln, inv)
    x1 = np.log(p) + l1
    x2 = np.log1p(-p) + l2
    ll = np.logaddexp(x1, x2)
    r = np.exp(x1 - ll)  # posterior weight of component 1 (Qn, without truncation)
    w = prof.w
    grad = np.array(
        [
            np.dot(w, r * da1),
            np.dot(w, r * db1),
            np.dot(w, (1 - r) * da2),
            np.dot(w, (1 - r) * db2),
            np.dot(w, r - p),
        ]
    )
    return -np.dot(w, ll), -grad


# Starting points (α1, β1, α2, β2, P): a spread over "most pairs near RR 1" and "a minority far above".
_STARTS = (
    (0.2, 0.1, 2.0, 4.0, 1 / 3),
    (0.1, 0.1, 10.0, 10.0, 0.2),
    (0.5, 0.5, 5.0, 5.0, 0.5),
    (3.0, 0.5, 2.0, 2.0, 0.1),
    (1.0, 0.2, 1.0, 1.0, 0.05),
)


def fit_prior(n: np.ndarray, e: np.ndarray, n_star: int = 1, starts=_STARTS) -> Prior:
    """Maximum-likelihood hyperparameters of the MGPS prior 先验超参数的极大似然估计.

    Maximises Σ log[P·f1*(N) + (1 − P)·f2*(N)] over the pairs with N ≥ N*, f* the negative binomials
    truncated below N* (DuMouchel 1999 eq. 12; DuMouchel & Pregibon 2001; openEBGM ``negLL``). The fit
    runs on all pairs, unsquashed: pairs sharing (N, E) are merged with a weight, which changes nothing
    in the likelihood. L-BFGS-B with the analytic gradient from several starts; the best is kept and
    the components are ordered so that P ≤ 0.5 (the mixture is symmetric under swapping them).
    """
    prof = _Profile.build(np.asarray(n), np.asarray(e, dtype=np.float64), n_star)
    if prof.w.size == 0:
        raise ValueError(f"没有 N ≥ {n_star} 的组合，无法估计先验")
    ln, inv = np.unique(prof.n, return_inverse=True)
    bounds = [(-12.0, 12.0)] * 4 + [(-20.0, 20.0)]
    best = None
    with np.errstate(over="ignore", under="ignore"):
        for start in starts:
            x0 = np.r_[np.log(start[:4]), special.logit(start[4])]
            res = optimize.minimize(
                _neg_loglik,
                x0,
                args=(prof, n_star, ln, inv),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-8},
            )
            if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
                best = res
    if best is None:
        raise ValueError("先验估计未收敛")
    a1, b1, a2, b2 = np.exp(best.x[:4])
    p = float(special.expit(best.x[4]))
    if p > 0.5:
        a1, b1, a2, b2, p = a2, b2, a1, b1, 1 - p
    return Prior(float(a1), float(b1), float(a2), float(b2), p, float(-best.fun - prof.log_n_fact), n_star)


def log_likelihood(prior: Prior, n: np.ndarray, e: np.ndarray, n_star: int = 1) -> float:
    """Truncated marginal log-likelihood of a given prior (with the ln N! terms), e.g. openEBGM's."""
    prof = _Profile.build(np.asarray(n), np.asarray(e, dtype=np.float64), n_star)
    ln, inv = np.unique(prof.n, return_inverse=True)
    theta = np.r_[np.log([prior.alpha1, prior.beta1, prior.alpha2, prior.beta2]), special.logit(prior.p)]
    return float(-_neg_loglik(theta, prof, n_star, ln, inv)[0] - prof.log_n_fact)


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
    F_k are the regularised gamma CDFs (openEBGM ``quantBisect`` bisects the same equation).
    Scores depend on (n, E) only, so they are computed once per distinct (n, E).
    """
    n = np.asarray(n, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    key = np.stack([n, e], axis=1)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.ravel()
    un, ue = uniq[:, 0], uniq[:, 1]
    a1, a2 = prior.alpha1 + un, prior.alpha2 + un
    b1, b2 = prior.beta1 + ue, prior.beta2 + ue
    with np.errstate(divide="ignore"):
        lf1 = (
            special.gammaln(a1)
            - special.gammaln(prior.alpha1)
            + prior.alpha1 * np.log(prior.beta1 / b1)
            + un * np.log(ue / b1)
        )
        lf2 = (
            special.gammaln(a2)
            - special.gammaln(prior.alpha2)
            + prior.alpha2 * np.log(prior.beta2 / b2)
            + un * np.log(ue / b2)
        )
    x1 = np.log(prior.p) + lf1
    x2 = np.log1p(-prior.p) + lf2
    qn = np.exp(x1 - np.logaddexp(x1, x2))
    elog = qn * (special.digamma(a1) - np.log(b1)) + (1 - qn) * (special.digamma(a2) - np.log(b2))
    ebgm = np.exp(elog)
    lo, hi = (_mixture_gamma_quantile(q, qn, a1, b1, a2, b2) for q in quantiles)
    return EbScores(qn[inv], ebgm[inv], lo[inv], hi[inv])


def _mixture_gamma_quantile(q, w, a1, b1, a2, b2, rtol: float = 1e-12, max_iter: int = 100) -> np.ndarray:
    """Solve w·F(a1, b1 x) + (1 − w)·F(a2, b2 x) = q for x, vectorised.

    The root lies between the two component quantiles (the mixture CDF is below q at the smaller and
    above it at the larger), which gives a bracket; safeguarded Newton steps in ln x, falling back to
    bisection of the bracket, converge in a few iterations. Elements drop out once converged.
    """
    x1 = special.gammaincinv(a1, q) / b1
    x2 = special.gammaincinv(a2, q) / b2
    # Where one component carries (numerically) all the weight, its quantile is the answer.
    x = np.where(w >= 0.5, x1, x2)
    lo = np.log(np.minimum(x1, x2))
    hi = np.log(np.maximum(x1, x2))
    active = np.flatnonzero((hi - lo > rtol) & (w > 1e-300) & (w < 1.0 - 1e-16))
    y = np.log(x[active])
    lo, hi = lo[active], hi[active]
    wa, a1a, b1a, a2a, b2a = w[active], a1[active], b1[active], a2[active], b2[active]
    lg1, lg2 = special.gammaln(a1a), special.gammaln(a2a)
    for _ in range(max_iter):
        if active.size == 0:
            break
        xv = np.exp(y)
        f = wa * special.gammainc(a1a, b1a * xv) + (1 - wa) * special.gammainc(a2a, b2a * xv) - q
        # d F / d ln x = x·pdf(x) = exp(a ln(bx) − bx − ln Γ(a)) per component
        dens = wa * np.exp(a1a * np.log(b1a * xv) - b1a * xv - lg1) + (1 - wa) * np.exp(
            a2a * np.log(b2a * xv) - b2a * xv - lg2
        )
        lo = np.where(f < 0, y, lo)
        hi = np.where(f < 0, hi, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = f / dens
        y_new = y - step
        bad = ~np.isfinite(y_new) | (y_new <= lo) | (y_new >= hi)
        y_new = np.where(bad, 0.5 * (lo + hi), y_new)
        done = (np.abs(y_new - y) <= rtol) | (hi - lo <= rtol)
        x[active] = np.exp(y_new)
        keep = ~done
        active, y = active[keep], y_new[keep]
        lo, hi, wa = lo[keep], hi[keep], wa[keep]
        a1a, b1a, a2a, b2a, lg1, lg2 = a1a[keep], b1a[keep], a2a[keep], b2a[keep], lg1[keep], lg2[keep]
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
