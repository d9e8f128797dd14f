"""The truncated MGPS likelihood, its gradient, the general N*, and the squashed-start fit path."""

import numpy as np
import pytest
from scipy import special, stats

from yaojian.signals import disproportionality as dp


def synthetic_counts(pairs: int, seed: int = 11):
    """N drawn from the MGPS model itself: λ from a two-gamma mixture, N ~ Poisson(λE), kept if N ≥ 1."""
    rng = np.random.default_rng(seed)
    e = np.exp(rng.uniform(np.log(0.01), np.log(20), pairs))
    signal = rng.random(pairs) < 0.1
    lam = np.where(signal, rng.gamma(2.0, 1 / 0.4, pairs), rng.gamma(5.0, 1 / 5.0, pairs))
    n = rng.poisson(lam * e)
    keep = n >= 1
    return n[keep], e[keep]


def direct_loglik(theta, n, e, n_star):
    """The same likelihood written with scipy.stats.nbinom (openEBGM's ``negLL`` formula)."""
    a1, b1, a2, b2, p = theta
    parts = []
    for a, b in ((a1, b1), (a2, b2)):
        dist = stats.nbinom(a, b / (b + e))
        parts.append(dist.pmf(n) / dist.sf(n_star - 1))
    return np.sum(np.log(p * parts[0] + (1 - p) * parts[1]))


@pytest.mark.parametrize("n_star", [1, 3])
def test_likelihood_and_gradient(n_star):
    n, e = synthetic_counts(3000)
    keep = n >= n_star
    theta = (1.5, 0.7, 4.0, 3.0, 0.2)
    prior = dp.Prior(*theta)
    assert dp.log_likelihood(prior, n, e, n_star) == pytest.approx(direct_loglik(theta, n[keep], e[keep], n_star))
    prof = dp._Profile.build(n, e, n_star)
    x = np.r_[np.log(theta[:4]), special.logit(theta[4])]
    _, grad = dp._neg_loglik(x, prof, n_star)
    h = 1e-6
    numeric = [
        (dp._neg_loglik(x + h * d, prof, n_star)[0] - dp._neg_loglik(x - h * d, prof, n_star)[0]) / (2 * h)
        for d in np.eye(5)
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)


def test_fit_beats_the_generating_prior():
    n, e = synthetic_counts(20000)
    fit = dp.fit_prior(n, e)
    truth = dp.Prior(2.0, 0.4, 5.0, 5.0, 0.1)
    assert fit.log_likelihood >= dp.log_likelihood(truth, n, e)
    # The background component sits at RR ≈ 1, the other well above it.
    assert fit.alpha2 / fit.beta2 == pytest.approx(1.0, rel=0.15)
    assert fit.alpha1 / fit.beta1 > 3


def test_squashed_start_reaches_the_unsquashed_optimum(monkeypatch):
    n, e = synthetic_counts(40000, seed=3)
    monkeypatch.setattr(dp, "SQUASH_ABOVE", 1000)
    via_squash = dp.fit_prior(n, e)
    monkeypatch.setattr(dp, "SQUASH_ABOVE", 10**9)
    direct = dp.fit_prior(n, e)
    assert via_squash.log_likelihood == pytest.approx(direct.log_likelihood, abs=1e-6)
    for k in ("alpha1", "beta1", "alpha2", "beta2", "p"):
        assert getattr(via_squash, k) == pytest.approx(getattr(direct, k), rel=1e-4), k


def test_stratified_expected_in_blocks(monkeypatch):
    rng = np.random.default_rng(5)
    rows = 5000
    args = (rng.integers(0, 800, rows), rng.integers(0, 30, rows), rng.integers(0, 20, rows), rng.integers(0, 4, rows))
    whole = dp.count_pairs(*args)
    monkeypatch.setattr(dp, "STRATA_BLOCK", 40)  # 10 pairs per block
    blocked = dp.count_pairs(*args)
    np.testing.assert_array_equal(whole.expected, blocked.expected)


def test_quantiles_of_a_degenerate_prior_converge():
    """A collapsed fit (P ≈ 0, shape ~1e5) once stopped Halley's creeping steps early: EB05 > EB95."""
    prior = dp.Prior(0.32142, 285262.8, 142954.87, 158419.26, 1e-9)
    n, e = np.array([2.0]), np.array([3.333])
    scores = dp.eb_scores(prior, n, e)
    # Only the second component counts; its posterior is Γ(α2 + n, β2 + E), inverted directly.
    shape, rate = prior.alpha2 + n[0], prior.beta2 + e[0]
    exact = stats.gamma.ppf([0.05, 0.95], shape, scale=1 / rate)
    assert scores.eb05[0] == pytest.approx(exact[0], rel=1e-9)
    assert scores.eb95[0] == pytest.approx(exact[1], rel=1e-9)
