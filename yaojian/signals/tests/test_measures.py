"""PRR, χ², ROR, IC and the EB quantiles against hand-computed 2×2 tables; counting rules; criteria."""

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import special, stats

from yaojian.signals.disproportionality import (
    PairCounts,
    Prior,
    SignalCriteria,
    analyse,
    count_pairs,
    eb_scores,
    ratio_measures,
)

from .conftest import read_csv

REFERENCE = Path(__file__).parent / "reference" / "vigipy_caers_reference.csv"


def table(a, b, c, d) -> PairCounts:
    """A one-pair PairCounts holding the 2×2 table (a, b; c, d)."""
    n = a + b + c + d
    one = np.array([0])
    return PairCounts(
        one, one, np.array([a]), np.array([a + b]), np.array([a + c]), n, np.array([(a + b) * (a + c) / n])
    )


def test_two_by_two_without_zero_cells():
    # a=10, b=90, c=40, d=9860 (n = 10 000)
    m = ratio_measures(table(10, 90, 40, 9860))
    # PRR = (10/100) / (40/9900) = 24.75; se = √(1/10 − 1/100 + 1/40 − 1/9900) = 0.338967…
    assert m.prr[0] == pytest.approx(24.75, rel=1e-12)
    assert m.prr_lo[0] == pytest.approx(12.736365516369, rel=1e-10)
    assert m.prr_hi[0] == pytest.approx(48.095549645832, rel=1e-10)
    # Yates χ² = 10000·(|10·9860 − 90·40| − 5000)² / (100·9900·50·9950) = 10000·90000² / 492 525 000 000
    assert m.prr_chi2[0] == pytest.approx(10000 * 90000**2 / 492_525_000_000, rel=1e-12)
    assert m.prr_chi2[0] == pytest.approx(164.458656921, rel=1e-10)
    # ROR = 10·9860 / (90·40) = 27.3888…; se = √(1/10 + 1/90 + 1/40 + 1/9860)
    assert m.ror[0] == pytest.approx(98600 / 3600, rel=1e-12)
    se = math.sqrt(1 / 10 + 1 / 90 + 1 / 40 + 1 / 9860)
    assert m.ror_lo[0] == pytest.approx(98600 / 3600 * math.exp(-1.959963984540054 * se), rel=1e-12)
    assert m.ror_hi[0] == pytest.approx(56.458224108326, rel=1e-10)


def test_ic_closed_form():
    # n_drug = 100, n_event = 50, n = 10 000, a = 10 → p1 = 101, p2 = 9901, q1 = 51, q2 = 9951, r1 = 11,
    # r2 = 10000 − 10 − 1 + 10002² / (101·51)
    p1, p2, q1, q2, r1 = 101, 9901, 51, 9951, 11
    r2 = 10000 - 11 + 10002**2 / (101 * 51)
    dg, tg = special.digamma, lambda x: special.polygamma(1, x)
    ic = (dg(r1) - dg(r1 + r2) - dg(p1) + dg(p1 + p2) - dg(q1) + dg(q1 + q2)) / math.log(2)
    sd = math.sqrt(tg(r1) - tg(r1 + r2) + tg(p1) - tg(p1 + p2) + tg(q1) - tg(q1 + q2)) / math.log(2)
    m = ratio_measures(table(10, 90, 40, 9860))
    assert m.ic[0] == pytest.approx(ic, rel=1e-12)
    assert m.ic[0] == pytest.approx(2.81486933, abs=1e-8)
    assert m.ic025[0] == pytest.approx(ic - 1.959963984540054 * sd, rel=1e-12)
    assert m.ic975[0] == pytest.approx(ic + 1.959963984540054 * sd, rel=1e-12)


def test_zero_cell_gets_haldane_correction():
    # b = 0: every cell + 0.5 → PRR = (3.5/4) / (5.5/98) = 15.5909…, ROR = 3.5·92.5 / (0.5·5.5)
    m = ratio_measures(table(3, 0, 5, 92))
    assert m.prr[0] == pytest.approx((3.5 / 4) / (5.5 / 98), rel=1e-12)
    assert m.ror[0] == pytest.approx(3.5 * 92.5 / (0.5 * 5.5), rel=1e-12)
    assert np.isfinite([m.prr_lo[0], m.prr_hi[0], m.ror_lo[0], m.ror_hi[0]]).all()
    # χ² stays on the raw table: 100·(|3·92 − 0| − 50)² / (3·97·8·92)
    assert m.prr_chi2[0] == pytest.approx(100 * (276 - 50) ** 2 / (3 * 97 * 8 * 92), rel=1e-12)


def test_yates_term_is_clipped_at_zero():
    # |ad − bc| = |5·405 − 45·45| = 0 < n/2: no association, χ² = 0 rather than n·(n/2)²/…
    assert ratio_measures(table(5, 45, 45, 405)).prr_chi2[0] == 0


def test_vigipy_agreement_on_the_same_counts():
    """vigipy 3.5.1's PRR, ROR (with CIs) and IC025 on CAERS counts; see reference/make_vigipy_reference.py."""
    rows = read_csv(REFERENCE)
    col = {k: np.array([float(r[k]) for r in rows]) for k in rows[0] if k not in ("drug", "event")}
    counts = PairCounts(
        np.zeros(len(rows), dtype=np.int64),
        np.zeros(len(rows), dtype=np.int64),
        col["N"].astype(np.int64),
        col["n_drug"].astype(np.int64),
        col["n_event"].astype(np.int64),
        int(col["n_reports"][0]),
        col["n_drug"] * col["n_event"] / col["n_reports"],
    )
    m = ratio_measures(counts)
    for ours, name in (
        (m.prr, "PRR"),
        (m.prr_lo, "PRR_lo"),
        (m.prr_hi, "PRR_hi"),
        (m.ror, "ROR"),
        (m.ror_lo, "ROR_lo"),
        (m.ror_hi, "ROR_hi"),
    ):
        np.testing.assert_allclose(ours, col[name], rtol=1e-9, err_msg=name)
    np.testing.assert_allclose(m.ic025, col["IC025"], rtol=1e-9, atol=1e-10)


def test_counting_is_by_distinct_report():
    # report 0 repeats (drug 0, event 0) three times; reports 0–3, drugs 0–1, events 0–1
    report = np.array([0, 0, 0, 0, 1, 1, 2, 3])
    drug = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    event = np.array([0, 0, 0, 1, 1, 0, 0, 1])
    c = count_pairs(report, drug, event)
    got = {(int(d), int(e)): (int(n), float(x)) for d, e, n, x in zip(c.drug, c.event, c.n, c.expected, strict=True)}
    # n_drug: drug 0 → {0, 1} = 2, drug 1 → {0, 1, 2, 3} = 4; n_event: event 0 → {0, 1, 2} = 3, event 1 → {0, 1, 3} = 3
    assert c.n_reports == 4
    assert got == {
        (0, 0): (1, 2 * 3 / 4),
        (0, 1): (1, 2 * 3 / 4),
        (1, 0): (2, 4 * 3 / 4),
        (1, 1): (2, 4 * 3 / 4),
    }


def test_stratified_expected_by_hand():
    # Stratum 0: reports 0, 1 both with (D0, E0) → E_0 = 2·2/2 = 2. Stratum 1: report 2 (D0, E1), report 3 (D1, E0)
    # → for (D0, E0): n_drug = 1, n_event = 1, n = 2 → 0.5. E = 2.5 (pooled would give 3·3/4 = 2.25).
    c = count_pairs(np.array([0, 1, 2, 3]), np.array([0, 0, 0, 1]), np.array([0, 0, 1, 0]), np.array([0, 0, 1, 1]))
    i = np.flatnonzero((c.drug == 0) & (c.event == 0))[0]
    assert c.n[i] == 2
    assert c.expected[i] == pytest.approx(2.5)


def test_quantiles_reduce_to_gamma_and_solve_the_mixture():
    prior = Prior(alpha1=2.0, beta1=0.5, alpha2=1.5, beta2=1.5, p=0.3)
    n = np.array([1, 3, 20, 1, 150])
    e = np.array([0.01, 2.5, 0.4, 50.0, 3.0])
    s = eb_scores(prior, n, e)
    for q, x in ((0.05, s.eb05), (0.95, s.eb95)):
        cdf = s.qn * stats.gamma.cdf(x, prior.alpha1 + n, scale=1 / (prior.beta1 + e)) + (1 - s.qn) * stats.gamma.cdf(
            x, prior.alpha2 + n, scale=1 / (prior.beta2 + e)
        )
        np.testing.assert_allclose(cdf, q, atol=1e-10)
    assert (s.eb05 < s.ebgm).all() and (s.ebgm < s.eb95).all()


def test_criteria_parse_and_flags():
    crit = SignalCriteria.parse(["prr=3", "N=2", "eb05=1.5"])
    assert (crit.prr, crit.n, crit.eb05, crit.chi2) == (3.0, 2, 1.5, 4.0)
    with pytest.raises(ValueError, match="无法识别"):
        SignalCriteria.parse(["lift=2"])
    with pytest.raises(ValueError, match="不是数字"):
        SignalCriteria.parse(["prr=two"])


def test_analyse_flags_a_planted_signal():
    rng = np.random.default_rng(7)
    reports = 4000
    drug = rng.integers(0, 40, reports)
    event = rng.integers(0, 30, reports)
    # Drug 0 causes event 0 in 60 extra reports.
    drug = np.r_[drug, np.zeros(60, dtype=np.int64)]
    event = np.r_[event, np.zeros(60, dtype=np.int64)]
    report = np.arange(drug.size)
    result = analyse(report, drug, event)
    planted = np.flatnonzero((result.counts.drug == 0) & (result.counts.event == 0))[0]
    for name, flagged in result.flags.items():
        assert flagged[planted], name
    assert result.flags["EBGM"].sum() == 1
    assert result.prior.log_likelihood < 0
