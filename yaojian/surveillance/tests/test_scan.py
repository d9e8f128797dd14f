import math

import numpy as np

from yaojian.surveillance.scan import log_likelihood_ratio, neighbours, space_time_scan

LINE = [[0.0, 0.0], [1.0, 0.0], [10.0, 0.0]]


def test_llr_of_a_planted_cluster_by_hand():
    table = np.array(
        [
            [1, 1, 1, 5],  # district 0: 5 cases on the last day
            [1, 1, 1, 1],
            [2, 2, 2, 2],
        ]
    )
    cluster = space_time_scan(table, LINE, max_zones=1, max_days=1, replications=99, seed=1)
    # C = 20; district 0 has 8 cases, the last day 8: μ = 8·8/20 = 3.2, c = 5.
    expected_llr = 5 * math.log(5 / 3.2) + 15 * math.log(15 / 16.8)
    assert cluster.zones.tolist() == [0]
    assert (cluster.first_day, cluster.last_day) == (3, 3)
    assert cluster.observed == 5
    assert cluster.expected == 3.2
    assert cluster.llr == expected_llr


def test_cylinder_over_two_districts_and_two_days():
    table = np.array(
        [
            [2, 2, 6, 6],
            [2, 2, 5, 5],
            [4, 4, 2, 2],
        ]
    )
    cluster = space_time_scan(table, LINE, max_zones=2, max_days=2, replications=99, seed=1)
    # Districts 0+1 over days 2-3: c = 22, C_Z = 30, C_D = 26, C = 42 → μ = 30·26/42.
    mu = 30 * 26 / 42
    assert sorted(cluster.zones.tolist()) == [0, 1]
    assert (cluster.first_day, cluster.last_day) == (2, 3)
    assert cluster.llr == log_likelihood_ratio(22, mu, 42)
    assert math.isclose(cluster.llr, 22 * math.log(22 / mu) + 20 * math.log(20 / (42 - mu)))


def test_neighbours_nearest_first():
    assert neighbours(LINE, 2).tolist() == [[0, 1], [1, 0], [2, 1]]


def _grid(n_side):
    return [[x, y] for x in range(n_side) for y in range(n_side)]


def test_null_table_has_no_significant_cluster():
    rng = np.random.default_rng(11)
    table = rng.poisson(3, size=(25, 60))
    cluster = space_time_scan(table, _grid(5), max_days=7, replications=199, seed=5)
    assert cluster.p_value > 0.05


def test_planted_space_time_cluster_is_significant():
    rng = np.random.default_rng(12)
    table = rng.poisson(3, size=(25, 60))
    planted = {12, 7, 11, 13, 17}  # the centre of the grid and its four neighbours, last three days
    table[sorted(planted), -3:] += 6
    cluster = space_time_scan(table, _grid(5), max_days=7, replications=199, seed=5)
    assert cluster.p_value == 1 / 200
    assert set(cluster.zones.tolist()) <= planted and len(cluster.zones) >= 3
    assert cluster.last_day == 59 and cluster.first_day >= 55


def test_seeded_replications_are_reproducible():
    rng = np.random.default_rng(13)
    table = rng.poisson(2, size=(9, 20))
    a = space_time_scan(table, _grid(3), replications=50, seed=3)
    b = space_time_scan(table, _grid(3), replications=50, seed=3)
    np.testing.assert_array_equal(a.null_max, b.null_max)
