"""Clustered-signal detection 聚集性信号: rule thresholds at their edges, the scan layer, idempotence."""

import datetime

import numpy as np
import pytest

from yaojian.sentinel import detection
from yaojian.sentinel.models import Cluster, Layer, SentinelConfig
from yaojian.surveillance.scan import space_time_scan

from .conftest import NOW, make_case

D0 = datetime.date(2025, 7, 1)
RULE = (Layer.RULE,)


def day(n: int) -> datetime.date:
    return D0 + datetime.timedelta(days=n - 1)


def run(as_of, layers=RULE, config=None):
    return detection.detect(as_of, now=NOW, layers=layers, config=config)


@pytest.mark.django_db
def test_two_cases_are_not_a_cluster_three_are(sites_world):
    make_case(sites_world, day(1))
    make_case(sites_world, day(2), pharmacy="gulou2")
    assert not run(day(2)).created
    third = make_case(sites_world, day(3))
    created = run(day(3)).created
    assert len(created) == 1
    cluster = created[0]
    assert (cluster.layer, cluster.rule, cluster.case_count) == (Layer.RULE, "product", 3)
    assert cluster.districts == ["320106"] and cluster.division_code == "320106"
    assert (cluster.first_day, cluster.last_day, cluster.detected_on) == (day(1), day(3), day(3))
    assert cluster.batch == sites_world.batches["b1"]  # every case names the same batch
    assert third in cluster.cases.all()


@pytest.mark.django_db
@pytest.mark.parametrize(("last", "found"), [(7, True), (8, False)])
def test_window_is_seven_calendar_days(sites_world, last, found):
    """Days 1 and 2 and a third case on day 7 lie within 7 days; on day 8 the first case has left the window."""
    make_case(sites_world, day(1))
    make_case(sites_world, day(2))
    make_case(sites_world, day(last))
    assert bool(run(day(last)).created) is found


@pytest.mark.django_db
def test_cases_in_different_districts_or_products_do_not_add_up(sites_world):
    make_case(sites_world, day(1))
    make_case(sites_world, day(2))
    make_case(sites_world, day(3), pharmacy="xuanwu", batch="b2")  # another district (and batch)
    make_case(sites_world, day(3), product="xuanwu", batch=None)  # another product
    assert not run(day(3)).created


@pytest.mark.django_db
def test_mixed_batches_still_make_a_product_cluster_without_a_batch(sites_world):
    make_case(sites_world, day(1))
    make_case(sites_world, day(2), batch="b2")
    make_case(sites_world, day(3), batch=None)
    (cluster,) = run(day(3)).created
    assert cluster.batch is None and cluster.case_count == 3


@pytest.mark.django_db
def test_batch_rule_spans_the_city(sites_world):
    """One batch in two districts of 南京: no district has 3 cases, the city has — a batch-level cluster."""
    make_case(sites_world, day(1))
    make_case(sites_world, day(2), pharmacy="xuanwu")
    assert not run(day(2)).created
    make_case(sites_world, day(3), batch="b2")  # a different batch does not count
    assert not run(day(3)).created
    make_case(sites_world, day(4), pharmacy="xuanwu")
    (cluster,) = run(day(4)).created
    assert (cluster.rule, cluster.division_code, cluster.districts) == ("batch", "320100", ["320102", "320106"])
    assert cluster.batch == sites_world.batches["b1"] and cluster.case_count == 3


@pytest.mark.django_db
def test_thresholds_are_configurable(sites_world):
    config = SentinelConfig(rule_min_cases=2)
    make_case(sites_world, day(1))
    make_case(sites_world, day(2))
    assert run(day(2), config=config).created


@pytest.mark.django_db
def test_duplicates_and_nullified_reports_do_not_count(sites_world):
    first = make_case(sites_world, day(1))
    make_case(sites_world, day(2), duplicate_of=first)
    make_case(sites_world, day(3), is_nullified=True)
    assert not run(day(3)).created


@pytest.mark.django_db
def test_detection_is_idempotent_and_a_growing_cluster_updates(sites_world):
    for n in (1, 2, 3):
        make_case(sites_world, day(n))
    assert len(run(day(3)).created) == 1
    again = run(day(3))
    assert not again.created and not again.updated and len(again.unchanged) == 1
    make_case(sites_world, day(4))
    grown = run(day(4))
    assert not grown.created and len(grown.updated) == 1
    cluster = Cluster.objects.get()
    assert (cluster.case_count, cluster.cases.count(), cluster.last_day, cluster.detected_on) == (4, 4, day(4), day(3))
    assert cluster.response.tasks.count() == 3  # one response, opened once


@pytest.mark.django_db
def test_planted_cluster_found_on_the_third_cases_day(sites_world):
    """Cases planted on days 2, 4 and 5, detection run every day: the rule layer fires on the third case's day."""
    detected = None
    for n in range(1, 8):
        if n in (2, 4, 5):
            make_case(sites_world, day(n))
        if n in (1, 6):  # background: the product in another district, another batch
            make_case(sites_world, day(n), pharmacy="xuanwu", batch="b2")
        if run(day(n)).created and detected is None:
            detected = day(n)
    assert detected == day(5)


def test_scan_on_a_small_table_finds_the_planted_cells():
    """4 districts × 10 days, two cases a day everywhere; district 2 has 8 extra cases on each of the last 2 days."""
    table = np.full((4, 10), 2)
    table[2, 8:] += 8
    centroids = detection.district_layout(["320101", "320102", "320103", "320201"])
    result = space_time_scan(table, centroids, max_zones=1, max_days=3, replications=199, seed=1)
    assert list(result.zones) == [2] and (result.first_day, result.last_day) == (8, 9)
    # c = 2·2 + 16 = 20; μ = C_zone · C_days / C = 36 · 32 / 96 = 12; LLR = c ln(c/μ) + (C−c) ln((C−c)/(C−μ))
    assert (result.observed, result.expected) == (20, pytest.approx(12))
    assert result.llr == pytest.approx(20 * np.log(20 / 12) + 76 * np.log(76 / 84))
    assert result.p_value <= 0.01


@pytest.mark.django_db
def test_scan_layer_stores_a_cluster_with_its_cases(sites_world):
    """Background cases of the product spread over both districts; a burst in 鼓楼 on the last two days."""
    config = SentinelConfig(scan_baseline_days=28, scan_replications=199, scan_alpha=0.05)
    burst = []
    for n in range(1, 29):
        make_case(sites_world, day(n), pharmacy="xuanwu", batch="b2")
        if n % 4 == 0:
            make_case(sites_world, day(n), batch="b2")
    for n in (27, 28):
        burst += [make_case(sites_world, day(n)) for _ in range(3)]
    result = detection.detect(day(28), now=NOW, layers=(Layer.SCAN,), config=config)
    (cluster,) = result.created
    assert cluster.layer == Layer.SCAN and cluster.division_code == "320106"
    assert cluster.p_value <= 0.05 and cluster.llr > 0 and cluster.expected < cluster.case_count
    assert set(burst) <= set(cluster.cases.all())
    assert cluster.first_day >= day(22)
    again = detection.detect(day(28), now=NOW, layers=(Layer.SCAN,), config=config)
    assert not again.created and Cluster.objects.count() == 1


def test_district_layout_puts_a_citys_districts_nearest():
    codes = ["320102", "320106", "320111", "320205", "320213"]
    xy = detection.district_layout(codes)
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    assert dist[0, 1] < dist[0, 3] and dist[0, 2] < dist[0, 4] and dist[3, 4] < dist[3, 0]


@pytest.mark.django_db
def test_scan_layer_finds_a_planted_cluster_within_a_day_of_the_third_case(sites_world):
    """Background: the product ~1.3 cases a day over two districts for 35 days; then one extra case a day in
    鼓楼. With the default α = 0.01 and 999 replications the scan fires on the fourth planted day — one day
    after the third case (the rule layer fires on the third)."""
    config = SentinelConfig(scan_baseline_days=42)
    for n in range(1, 36):
        make_case(sites_world, day(n), pharmacy="xuanwu", batch="b2")
        if n % 3 == 0:
            make_case(sites_world, day(n), batch="b2")
    detected = None
    for planted, n in enumerate(range(36, 42), start=1):
        make_case(sites_world, day(n))
        if detection.detect(day(n), now=NOW, layers=(Layer.SCAN,), config=config).created:
            detected = planted
            break
    assert detected == 4
    (cluster,) = Cluster.objects.all()
    assert cluster.p_value <= 0.01 and cluster.districts == ["320106"]


@pytest.mark.django_db
def test_after_closing_a_rerun_changes_nothing_and_a_new_case_opens_a_new_signal(sites_world):
    for n in (1, 2, 3):
        make_case(sites_world, day(n))
    (first,) = run(day(3)).created
    Cluster.objects.filter(pk=first.pk).update(status="closed")
    assert not run(day(3)).created
    make_case(sites_world, day(4))
    (second,) = run(day(4)).created
    assert second.pk != first.pk and second.case_count == 4
