import numpy as np
import pytest

from yaojian.surveillance.ears import cusum, ears

from .reference_data import compare, load_reference, load_series

SETTINGS = {
    "C1": {"method": "C1"},
    "C2": {"method": "C2"},
    "C3": {"method": "C3"},
    "C1_b12": {"method": "C1", "baseline": 12, "alpha": 0.01, "min_sigma": 0.5},
    "C2_b12": {"method": "C2", "baseline": 12, "alpha": 0.01, "min_sigma": 0.5},
    "C3_b12": {"method": "C3", "baseline": 12, "alpha": 0.05, "min_sigma": 0.5},
}


@pytest.mark.parametrize("key", sorted(load_reference("ears_reference.csv")))
def test_ears_matches_r_surveillance(key):
    dataset, setting = key
    rows = load_reference("ears_reference.csv")[key]
    units, counts, _ = load_series(dataset)
    result = ears(counts, **SETTINGS[setting])
    worst, nan_mismatch, alarm_mismatch = compare(rows, units, result)
    assert worst < 1e-6
    assert nan_mismatch == 0
    assert alarm_mismatch == 0
    assert result.start == min(t for _, t, _, _ in rows)


def test_textbook_c3_by_hand():
    # baseline 3, guard 2: day t uses days t-5..t-3. Days 0-5 are flat 2,4,…; C2 on days 5..8 by hand.
    y = np.array([2, 4, 6, 2, 4, 6, 8, 10, 4, 2], dtype=float)
    result = ears(y, method="C3-textbook", baseline=3)
    # Every baseline window here is a permutation of (2, 4, 6) or later values; mean/sd computed by hand:
    # day 5: base (2,4,6) m=4 s=2 → C2=1 → excess 0; day 6: base (4,6,2) → C2=2 → 1;
    # day 7: base (6,2,4) → C2=3 → 2; day 8: base (2,4,6) → C2=0 → 0; day 9: base (4,6,8) m=6 → C2=-2 → 0.
    assert result.start == 7
    np.testing.assert_allclose(result.statistic[0, 7:], [0 + 1 + 2, 1 + 2 + 0, 2 + 0 + 0])
    assert result.alarm[0].tolist() == [False] * 7 + [True, True, False]
    # Day 9: the two previous days contribute 2 + 0 = 2 = threshold, so day 9 alone must exceed C2 = 1.
    np.testing.assert_allclose(result.upperbound[0, 9], 6 + 2 * 1.0)
    # surveillance's C3 looks only at days 7 and 8 for day 9 (excess 2 + 0) and ignores day 9 itself.
    assert ears(y, method="C3", baseline=3, alpha=0.025).statistic[0, 9] == pytest.approx(2.0)


def test_c3_variants_differ_on_the_current_day():
    y = np.array([5, 5, 6, 4, 5, 6, 4, 5, 5, 30], dtype=float)
    textbook = ears(y, method="C3-textbook", baseline=3)
    package = ears(y, method="C3", baseline=3)
    assert textbook.alarm[0, -1]  # the spike today counts in the textbook C3
    assert not package.alarm[0, -1]  # …but not in surveillance's C3


def test_vectorised_over_series_equals_one_by_one():
    rng = np.random.default_rng(3)
    counts = rng.poisson(4, size=(5, 60)).astype(float)
    together = ears(counts, method="C2")
    for i in range(5):
        alone = ears(counts[i], method="C2")
        np.testing.assert_array_equal(together.upperbound[i], alone.upperbound[0])


def test_cusum_accumulates_and_resets():
    y = np.array([4.0] * 10 + [6.0, 6.0, 4.0, 4.0, 4.0])
    result = cusum(y, baseline=5, guard=2, k=0.5, h=2.0, min_sigma=1.0)
    # Flat baseline (the guard keeps the 6s out): mean 4, sd floored at 1 → z = 2 on the 6s;
    # S: 1.5 (day 10), then 3.0 > 2 → alarm, reset; the 4s that follow stay below their baselines.
    np.testing.assert_allclose(result.statistic[0, 10:12], [1.5, 3.0])
    assert result.alarm[0].tolist()[10:] == [False, True, False, False, False]
    # Bound on day 11 = mean + sd·(h + k − S₁₀) = 4 + 1·(2.5 − 1.5).
    assert result.upperbound[0, 11] == pytest.approx(5.0)
