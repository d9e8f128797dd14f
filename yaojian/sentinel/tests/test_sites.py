"""Sentinel sites 哨点: registration rules, timeliness 即销即报 at its edges, silence, targets."""

import datetime

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yaojian.adr.models import AdrReport
from yaojian.core import services
from yaojian.core.models import AuditRecord
from yaojian.sentinel import performance
from yaojian.sentinel.models import Cluster, SentinelConfig, SentinelSite

from .conftest import make_case, make_pharmacy

D = datetime.date(2025, 7, 1)


def register(world, key="gulou", active_from=D - datetime.timedelta(days=100)):
    return services.create_record(
        SentinelSite,
        actor=world.users["city"],  # 南京市: both districts
        enterprise=world.pharmacies[key],
        kind="pharmacy",
        watched_groups=["paediatric", "tcm_injection"],
        active_from=active_from,
    )


@pytest.mark.django_db
def test_registration_is_audited_and_checks_the_enterprise_type(sites_world):
    site = register(sites_world)
    assert AuditRecord.objects.filter(object_type="sentinel.sentinelsite", object_id=str(site.pk)).exists()
    assert site.division_code == "320106" and site.watched_groups_display == "儿童用药、中药注射剂"
    with pytest.raises(PermissionDenied):  # 鼓楼's regulator may not register a site in 玄武
        services.create_record(
            SentinelSite,
            actor=sites_world.users["district"],
            enterprise=sites_world.pharmacies["xuanwu"],
            kind="pharmacy",
            watched_groups=["paediatric"],
            active_from=D,
        )
    with pytest.raises(ValidationError):  # a manufacturer is no pharmacy
        services.create_record(
            SentinelSite,
            actor=None,
            enterprise=sites_world.enterprises["gulou"],
            kind="pharmacy",
            watched_groups=["paediatric"],
            active_from=D,
        )
    clinic = make_pharmacy("320106", "gulou诊所", "clinic")
    with pytest.raises(ValidationError):  # no watched group
        services.create_record(
            SentinelSite, actor=None, enterprise=clinic, kind="clinic", watched_groups=[], active_from=D
        )


@pytest.mark.django_db
def test_timeliness_edges(sites_world):
    register(sites_world)
    sold = D
    on_day_7 = make_case(sites_world, sold + datetime.timedelta(days=7), sold_on=sold)
    on_day_8 = make_case(sites_world, sold + datetime.timedelta(days=8), sold_on=sold)
    # No sale date: the clock starts at first knowledge (received_on).
    no_sale = make_case(sites_world, D + datetime.timedelta(days=9), received_on=D + datetime.timedelta(days=3))
    neither = make_case(sites_world, D + datetime.timedelta(days=2), received_on=None)
    pks, _owners, days = performance.report_delays(performance.sentinel_reports())
    delay = dict(zip(pks.tolist(), days.tolist(), strict=True))
    assert (delay[on_day_7.pk], delay[on_day_8.pk], delay[no_sale.pk]) == (7, 8, 6)
    assert np.isnan(delay[neither.pk])
    timely = dict(zip(pks.tolist(), performance.on_time(days, 7).tolist(), strict=True))
    assert (timely[on_day_7.pk], timely[on_day_8.pk], timely[no_sale.pk], timely[neither.pk]) == (
        True,
        False,
        True,
        False,
    )


@pytest.mark.django_db
def test_site_performance_counts_timeliness_and_median(sites_world):
    register(sites_world)
    register(sites_world, "xuanwu")
    for delay in (0, 2, 7, 8, 12):
        make_case(sites_world, D + datetime.timedelta(days=delay), sold_on=D)
    make_case(sites_world, D, received_on=None)  # cannot be timed
    make_case(sites_world, D, source="hospital")  # not a sentinel report
    rows = {
        r.site.enterprise.name: r
        for r in performance.site_performance(
            SentinelSite.objects.all(), D, D + datetime.timedelta(days=30), SentinelConfig()
        )
    }
    gulou, xuanwu = rows["gulou大药房"], rows["xuanwu大药房"]
    assert (gulou.reports, gulou.timed, gulou.on_time, gulou.median_days) == (6, 5, 3, 7.0)
    assert gulou.on_time_rate == pytest.approx(0.6)
    assert (xuanwu.reports, xuanwu.timed, xuanwu.median_days, xuanwu.on_time_rate) == (0, 0, None, None)


@pytest.mark.django_db
@pytest.mark.parametrize(("quiet", "silent"), [(29, False), (30, True)])
def test_silence_flag_at_n_days(sites_world, quiet, silent):
    register(sites_world)
    make_case(sites_world, D, sold_on=D)
    end = D + datetime.timedelta(days=quiet)
    (row,) = performance.site_performance(SentinelSite.objects.all(), D, end, SentinelConfig(silence_days=30))
    assert (row.days_silent, row.silent) == (quiet, silent)


@pytest.mark.django_db
def test_a_site_that_never_reported_is_silent_from_its_start(sites_world):
    register(sites_world, active_from=D)
    (row,) = performance.site_performance(
        SentinelSite.objects.all(), D, D + datetime.timedelta(days=45), SentinelConfig()
    )
    assert (row.last_reported_on, row.days_silent, row.silent) == (None, 45, True)


@pytest.mark.django_db
def test_targets_count_valid_reports_of_the_year(sites_world):
    register(sites_world)
    make_case(sites_world, D)
    make_case(sites_world, D, is_nullified=True)
    make_case(sites_world, D - datetime.timedelta(days=365))
    figures = performance.targets(
        performance.valid_reports(), Cluster.objects.all(), 2025, SentinelConfig(annual_report_target=4)
    )
    # The world's own three reports (2025, hospital source) count as valid reports too.
    assert figures["valid"] == AdrReport.objects.filter(reported_on__year=2025, is_nullified=False).count() == 4
    assert (figures["sentinel"], figures["report_progress"], figures["signal_total"]) == (1, 1.0, 0)
