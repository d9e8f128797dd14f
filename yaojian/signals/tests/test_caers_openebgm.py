"""Agreement with openEBGM 0.9.1 on the real CAERS data (reference results in ../shared/data/caers/)."""

import numpy as np
import pytest

from yaojian.signals.disproportionality import Prior, count_pairs, eb_scores, fit_prior, log_likelihood

# From ../shared/data/caers/MANIFEST.md: openEBGM's fit of the same likelihood on the unsquashed pairs.
OPENEBGM_UNSQUASHED = Prior(alpha1=3.255967, beta1=0.399990, alpha2=2.023752, beta2=1.906133, p=0.065307)


def column(rows, name):
    return np.array([float(r[name]) for r in rows])


def reference_prior(rows) -> Prior:
    return Prior(*(float(rows[0][k]) for k in ("alpha1", "beta1", "alpha2", "beta2", "P")))


def test_counts_match_openebgm(caers_counts, openebgm):
    assert caers_counts.n_reports == 3356
    assert caers_counts.n.size == 17189
    np.testing.assert_array_equal(caers_counts.n, column(openebgm, "N"))
    np.testing.assert_allclose(caers_counts.expected, column(openebgm, "E"), rtol=1e-12)


def test_unsquashed_fit_at_least_as_good_as_openebgm(caers_counts):
    fit = fit_prior(caers_counts.n, caers_counts.expected, n_star=1)
    theirs = log_likelihood(OPENEBGM_UNSQUASHED, caers_counts.n, caers_counts.expected, n_star=1)
    assert fit.log_likelihood >= theirs
    assert fit.log_likelihood == pytest.approx(-4162.4557104, abs=1e-6)
    ours = np.array([fit.alpha1, fit.beta1, fit.alpha2, fit.beta2, fit.p])
    ref = np.array([getattr(OPENEBGM_UNSQUASHED, k) for k in ("alpha1", "beta1", "alpha2", "beta2", "p")])
    np.testing.assert_allclose(ours, ref, rtol=1e-3)


def test_scores_with_openebgm_prior(caers_counts, openebgm):
    scores = eb_scores(reference_prior(openebgm), caers_counts.n, caers_counts.expected)
    np.testing.assert_allclose(scores.ebgm, column(openebgm, "EBGM_full"), rtol=1e-6)
    np.testing.assert_allclose(scores.qn, column(openebgm, "Qn"), rtol=1e-9)
    # The reference quantiles are printed to 6 decimals, so compare on an absolute scale below 1.
    for ours, name in ((scores.eb05, "QUANT_05_full"), (scores.eb95, "QUANT_95_full")):
        ref = column(openebgm, name)
        assert np.max(np.abs(ours - ref) / np.maximum(1.0, ref)) <= 1e-5


def test_eb05_signals_equal_openebgm(caers_counts, caers_keys, openebgm):
    fit = fit_prior(caers_counts.n, caers_counts.expected)
    scores = eb_scores(fit, caers_counts.n, caers_counts.expected)
    ours = {k for k, flagged in zip(caers_keys, scores.eb05 >= 2, strict=True) if flagged}
    theirs = {(r["var1"], r["var2"]) for r in openebgm if float(r["QUANT_05_full"]) >= 2}
    assert len(theirs) == 131
    assert ours == theirs


def test_stratified_expected_sums_over_strata(caers_table, caers_counts):
    """E by sex: Σ_s n_drug,s·n_event,s / n_s, checked against a direct per-stratum recount."""
    t = caers_table
    strat = count_pairs(t.report, t.drug, t.event, t.stratum)
    np.testing.assert_array_equal(strat.n, caers_counts.n)
    expected = np.zeros(strat.n.size)
    for s in np.unique(t.stratum):
        rows = t.stratum == s
        within = count_pairs(t.report[rows], t.drug[rows], t.event[rows])
        n_drug = np.zeros(t.drug.max() + 1)
        n_event = np.zeros(t.event.max() + 1)
        n_drug[within.drug] = within.n_drug
        n_event[within.event] = within.n_event
        expected += n_drug[strat.drug] * n_event[strat.event] / within.n_reports
    np.testing.assert_allclose(strat.expected, expected, rtol=1e-12)
    assert not np.allclose(strat.expected, caers_counts.expected)
