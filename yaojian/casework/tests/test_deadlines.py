"""Deadline arithmetic 报告时限 at its edges, follow-ups, and timeliness per reporting unit."""

import datetime

import pytest

from yaojian.adr.models import AdrReport
from yaojian.casework import deadlines
from yaojian.casework.config import active_config, publish_config
from yaojian.core.models import AuditRecord

from .cases import add_case

D = datetime.date(2025, 1, 31)  # month ends make the day arithmetic honest


def days(n):
    return D + datetime.timedelta(days=n)


def timed(report, config=None):
    return deadlines.annotate_timeliness(AdrReport.objects.filter(pk=report.pk), config or active_config()).get()


@pytest.fixture
def ent(world):
    return world.enterprises["gulou"]


@pytest.mark.parametrize(
    ("seriousness", "is_new", "after", "late", "late_days", "limit"),
    [
        ("serious", False, 15, False, 0, 15),  # exactly 15 days: on time
        ("serious", False, 16, True, 1, 15),
        ("general", True, 15, False, 0, 15),  # new 新的: 15 days
        ("general", True, 16, True, 1, 15),
        ("general", False, 30, False, 0, 30),
        ("general", False, 31, True, 1, 30),
        ("death", False, 0, False, 0, 0),  # immediately: the same day
        ("death", False, 1, True, 1, 0),  # the next day is a day late
        ("serious", False, 0, False, 0, 15),
    ],
)
def test_legal_limit_edges(ent, seriousness, is_new, after, late, late_days, limit):
    report = add_case(ent, "DL-1", seriousness=seriousness, is_new=is_new, received_on=D, reported_on=days(after))
    row = timed(report)
    assert row.tl_limit == datetime.timedelta(days=limit)
    assert row.tl_delay == datetime.timedelta(days=after)
    assert row.tl_late is late
    assert deadlines.days_late(row.tl_excess) == late_days
    assert row.tl_start == D and row.tl_start_missing is False
    assert row.tl_sentinel_excess is None and row.tl_sentinel_late is False


def test_missing_received_on_falls_back_to_report_date_and_is_flagged(ent):
    report = add_case(ent, "DL-2", seriousness="death", received_on=None, reported_on=days(40))
    row = timed(report)
    assert row.tl_start == days(40) and row.tl_start_missing is True
    assert row.tl_late is False and deadlines.days_late(row.tl_excess) == 0


@pytest.mark.parametrize(
    ("sold", "received", "reported", "late", "late_days"),
    [
        (0, 5, 7, False, 0),  # 7 days from sale: met
        (0, 5, 8, True, 1),  # 8 days: missed by one
        (None, 0, 7, False, 0),  # no sale date: from first knowledge
        (None, 0, 8, True, 1),
        (None, None, 0, False, 0),  # neither: from the report date
    ],
)
def test_sentinel_target(ent, sold, received, reported, late, late_days):
    report = add_case(
        ent,
        "DL-3",
        source="sentinel",
        sold_on=None if sold is None else days(sold),
        received_on=None if received is None else days(received),
        reported_on=days(reported),
    )
    row = timed(report)
    assert row.tl_sentinel_late is late
    assert deadlines.days_late(row.tl_sentinel_excess) == late_days
    assert row.tl_late is False  # a general case: the 30-day legal limit is met either way


def test_a_new_parameter_version_changes_the_limits(ent, world):
    report = add_case(ent, "DL-4", seriousness="serious", received_on=D, reported_on=days(12))
    assert timed(report).tl_late is False
    params = {**active_config().parameters, "serious_days": 10}
    config = publish_config(params, actor=world.users["admin"], note="试行 10 日")
    assert config.version == 2 and active_config() == config
    assert timed(report).tl_late is True
    assert AuditRecord.objects.get(object_type="casework.caseworkconfig").after["parameters"]["serious_days"] == 10


def test_death_followups_near_due_and_overdue(ent):
    config = active_config()
    today = days(20)
    near = add_case(ent, "FU-near", seriousness="death", received_on=days(5))  # due day 20: today
    edge = add_case(ent, "FU-edge", seriousness="death", received_on=days(8))  # due day 23: in 3 days
    add_case(ent, "FU-far", seriousness="death", received_on=days(9))  # due day 24: not yet near
    overdue = add_case(ent, "FU-over", seriousness="death", received_on=days(4))  # due day 19
    add_case(ent, "FU-done", seriousness="death", received_on=days(4), latest_received_on=days(15))
    add_case(ent, "FU-serious", seriousness="serious", received_on=days(4))  # no follow-up tracked
    reports = AdrReport.objects.all()
    assert set(deadlines.followups_near_due(reports, config, today)) == {near, edge}
    assert set(deadlines.followups_overdue(reports, config, today)) == {overdue}


def test_timeliness_per_unit(ent, world):
    rows = [
        ("甲医院", "serious", 10),
        ("甲医院", "serious", 16),
        ("甲医院", "general", 20),
        ("乙药店", "general", 31),
        ("", "general", 3),
    ]
    for k, (unit, seriousness, after) in enumerate(rows):
        add_case(ent, f"TU-{k}", reporter_unit=unit, seriousness=seriousness, received_on=D, reported_on=days(after))
    add_case(ent, "TU-s", reporter_unit="乙药店", source="sentinel", sold_on=D, received_on=D, reported_on=days(8))
    add_case(ent, "TU-m", reporter_unit="乙药店", received_on=None, reported_on=days(3))
    AdrReport.objects.filter(report_number__startswith="ADR-").delete()  # the world's own report
    stats = {r["unit"]: r for r in deadlines.unit_statistics(AdrReport.objects.all(), active_config())}
    a, b = stats["甲医院"], stats["乙药店"]
    assert (a["cases"], a["on_time"], a["late"], a["median_delay"], a["max_delay"]) == (3, 2, 1, 16, 20)
    assert a["on_time_rate"] == pytest.approx(2 / 3)
    assert (b["cases"], b["on_time"], b["missing"], b["sentinel_cases"], b["sentinel_rate"]) == (3, 2, 1, 1, 0.0)
    assert stats[deadlines.UNFILLED]["cases"] == 1
    assert a["sentinel_rate"] is None
    assert deadlines.unit_statistics(AdrReport.objects.none(), active_config()) == []
