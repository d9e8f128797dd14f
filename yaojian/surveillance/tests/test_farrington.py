import numpy as np
import pytest

from yaojian.surveillance.farrington import FarringtonControl, count_quantile, farrington_flexible, noufaily_control

from .reference_data import compare, load_reference, load_series

# The control lists of make_reference.R, one to one.
WEEKLY = {
    "farrington": FarringtonControl(
        b=4, w=3, weights_threshold=1, past_weeks_not_included=3, alpha=0.1, limit54=(0, 4)
    ),
    "farrington_default": FarringtonControl(),
    "noufaily": noufaily_control(b=4, p_threshold_trend=1, limit54=(0, 4)),
    "noufaily_muan": noufaily_control(b=4, p_threshold_trend=1, threshold_method="muan"),
}
DAILY = {
    "farrington": FarringtonControl(
        b=3, w=3, weights_threshold=1, past_weeks_not_included=3, alpha=0.1, limit54=(0, 4)
    ),
    "noufaily": noufaily_control(b=3, p_threshold_trend=1, limit54=(0, 4)),
}


@pytest.mark.parametrize("key", sorted(load_reference("farrington_reference.csv")))
def test_farrington_flexible_matches_r_surveillance(key):
    dataset, setting = key
    rows = load_reference("farrington_reference.csv")[key]
    units, counts, freq = load_series(dataset)
    control = (DAILY if freq == 365 else WEEKLY)[setting]
    result = farrington_flexible(counts, freq, control, days=sorted({t for _, t, _, _ in rows}))
    worst, nan_mismatch, alarm_mismatch = compare(rows, units, result)
    assert worst < 1e-6
    assert nan_mismatch == 0
    assert alarm_mismatch == 0


def test_reference_covers_bounds_and_alarms():
    rows = [r for key, rs in load_reference("farrington_reference.csv").items() for r in rs]
    assert sum(not np.isnan(upper) for _, _, upper, _ in rows) > 1000
    assert sum(alarm for *_, alarm in rows) > 10


def test_count_quantile_matches_poisson_and_negative_binomial():
    from scipy.stats import nbinom, poisson

    mean = np.array([0.5, 3.0, 12.0, 40.0])
    np.testing.assert_array_equal(count_quantile(0.95, mean, np.ones(4)), poisson.ppf(0.95, mean))
    phi = np.full(4, 2.5)
    np.testing.assert_array_equal(count_quantile(0.95, mean, phi), nbinom.ppf(0.95, mean / 1.5, 1 / 2.5))


def test_planted_outbreak_alarms_on_simulated_daily_series():
    rng = np.random.default_rng(7)
    days = np.arange(3 * 365)
    counts = rng.poisson(5 + 2 * np.sin(2 * np.pi * days / 365), size=(20, days.size)).astype(float)
    counts[:10, -1] += 25  # outbreak today in half the series
    result = farrington_flexible(counts, 365, noufaily_control(b=2), days=[days.size - 1])
    assert result.alarm[:10, -1].all()
    assert result.alarm[10:, -1].sum() <= 2


def test_batched_over_series_equals_one_by_one(monkeypatch):
    import yaojian.surveillance.farrington as farrington

    units, counts, freq = load_series("salmonella.agona")
    rng = np.random.default_rng(5)
    counts = np.vstack([counts, rng.poisson(counts.mean() + 2, size=(4, counts.shape[1]))])
    monkeypatch.setattr(farrington, "CHUNK", 2)  # crosses chunk boundaries too
    days = list(range(290, 312))
    together = farrington_flexible(counts, freq, WEEKLY["farrington_default"], days=days)
    for i in range(counts.shape[0]):
        alone = farrington_flexible(counts[i], freq, WEEKLY["farrington_default"], days=days)
        np.testing.assert_allclose(together.upperbound[i], alone.upperbound[0], rtol=1e-12)
        np.testing.assert_array_equal(together.alarm[i], alone.alarm[0])
