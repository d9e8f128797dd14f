"""Scheduler 定时作业: cron schedule arithmetic, the loop on a simulated clock, catch-up and failures."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from yaojian.risk import scheduler
from yaojian.risk.models import ScheduledRun
from yaojian.risk.scheduler import CronSchedule

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("expression", "moment", "expected"),
    [
        ("30 2 * * *", at(2026, 1, 1, 1, 0), at(2026, 1, 1, 2, 30)),
        ("30 2 * * *", at(2026, 1, 1, 2, 30), at(2026, 1, 2, 2, 30)),  # strictly after
        ("30 2 * * *", at(2026, 12, 31, 23, 59), at(2027, 1, 1, 2, 30)),  # over the year end
        ("*/15 8-9 * * 1-5", at(2026, 1, 2, 9, 50), at(2026, 1, 5, 8, 0)),  # Friday evening → Monday
        ("*/15 8-9 * * 1-5", at(2026, 1, 5, 8, 7), at(2026, 1, 5, 8, 15)),
        ("0 3 29 2 *", at(2026, 3, 1, 0, 0), at(2028, 2, 29, 3, 0)),  # next leap day
        ("0 0 1 * 0", at(2026, 1, 2, 0, 0), at(2026, 1, 4, 0, 0)),  # day 1 OR Sunday, as in cron
        ("0 0 * * 7", at(2026, 1, 2, 0, 0), at(2026, 1, 4, 0, 0)),  # 7 is Sunday too
        ("5,35 */6 * 1 *", at(2026, 1, 31, 18, 40), at(2027, 1, 1, 0, 5)),  # January only
    ],
)
def test_next_run_time(expression, moment, expected):
    assert CronSchedule.parse(expression, "Asia/Shanghai").next_after(moment) == expected


def test_times_are_read_in_the_project_time_zone():
    schedule = CronSchedule.parse("30 2 * * *", "Asia/Shanghai")
    utc_evening = datetime.datetime(2026, 1, 1, 18, 0, tzinfo=datetime.UTC)  # 02:00 on 2 January in Shanghai
    assert schedule.next_after(utc_evening) == at(2026, 1, 2, 2, 30)
    assert schedule.next_after(utc_evening).astimezone(datetime.UTC).hour == 18


def test_latest_scheduled_time():
    schedule = CronSchedule.parse("30 2 * * *", "Asia/Shanghai")
    assert schedule.latest_at_or_before(at(2026, 1, 1, 2, 30)) == at(2026, 1, 1, 2, 30)
    assert schedule.latest_at_or_before(at(2026, 1, 1, 2, 29)) == at(2025, 12, 31, 2, 30)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("30 2 * *", "5 个字段"),
        ("60 2 * * *", "分字段超出范围"),
        ("30 2 0 * *", "日字段超出范围"),
        ("30 x * * *", "时字段无法解析"),
        ("0 0 30 2 *", "永不触发"),
        ("*/0 * * * *", "超出范围"),
    ],
)
def test_invalid_expressions_are_refused(expression, reason):
    with pytest.raises(ValueError, match=reason):
        CronSchedule.parse(expression, "Asia/Shanghai")


class FakeClock:
    """Simulated time: ``wait`` moves the clock instead of sleeping."""

    def __init__(self, start):
        self.moment = start
        self.waits = []

    def now(self):
        return self.moment

    def wait(self, seconds):
        self.waits.append(seconds)
        self.moment += datetime.timedelta(seconds=seconds)
        return False


@pytest.fixture
def calls(monkeypatch):
    record = {"nightly": [], "deliver": 0}

    def nightly(as_of):
        record["nightly"].append(as_of)
        raise_next = record.pop("fail", False)
        if raise_next:
            raise RuntimeError("数据库不可用")
        return NightlyStub()

    def deliver_due():
        record["deliver"] += 1
        return 0, 0

    # Between jobs the real loop drops stale connections; a test's connection is inside its transaction.
    monkeypatch.setattr(scheduler, "close_old_connections", lambda: None)
    monkeypatch.setattr(scheduler.jobs, "nightly", nightly)
    monkeypatch.setattr(scheduler.pushes, "deliver_due", deliver_due)
    return record


class NightlyStub:
    class recompute:  # noqa: N801 — stands in for the RecomputeResult attribute
        scored = changed = products_scored = products_changed = 0

    class rules:  # noqa: N801
        fired = cleared = 0

    escalated = delivered = undelivered = 0
    domains: list = []


def test_loop_makes_up_a_missed_night_then_follows_the_schedule(db, calls):
    clock = FakeClock(at(2026, 1, 1, 1, 0))
    loop = scheduler.Scheduler(
        CronSchedule.parse("30 2 * * *", "Asia/Shanghai"),
        datetime.timedelta(minutes=30),
        now=clock.now,
        wait=clock.wait,
    )
    loop.run(max_cycles=60)
    # 31 December's run was missed (no record): made up at once; then 1 and 2 January at 02:30.
    assert calls["nightly"][:3] == [datetime.date(2025, 12, 31), datetime.date(2026, 1, 1), datetime.date(2026, 1, 2)]
    runs = list(ScheduledRun.objects.order_by("scheduled_for"))
    assert [r.scheduled_for for r in runs[:3]] == [
        at(2025, 12, 31, 2, 30),
        at(2026, 1, 1, 2, 30),
        at(2026, 1, 2, 2, 30),
    ]
    assert all(r.status == ScheduledRun.Status.SUCCEEDED and r.finished_at for r in runs)
    assert calls["deliver"] >= 40  # every 30 minutes between the nights
    assert max(clock.waits) <= 30 * 60


def test_no_catch_up_when_the_latest_night_ran(db, calls):
    ScheduledRun.objects.create(
        job="nightly", scheduled_for=at(2025, 12, 31, 2, 30), started_at=at(2025, 12, 31, 2, 30), status="succeeded"
    )
    clock = FakeClock(at(2026, 1, 1, 1, 0))
    scheduler.Scheduler(
        CronSchedule.parse("30 2 * * *", "Asia/Shanghai"), datetime.timedelta(hours=1), now=clock.now, wait=clock.wait
    ).run(max_cycles=3)
    assert calls["nightly"] == [datetime.date(2026, 1, 1)]


def test_a_failed_night_is_recorded_and_the_loop_goes_on(db, calls):
    calls["fail"] = True
    clock = FakeClock(at(2026, 1, 1, 2, 29))
    ScheduledRun.objects.create(
        job="nightly", scheduled_for=at(2025, 12, 31, 2, 30), started_at=at(2025, 12, 31, 2, 30), status="succeeded"
    )
    scheduler.Scheduler(
        CronSchedule.parse("30 2 * * *", "Asia/Shanghai"), datetime.timedelta(hours=6), now=clock.now, wait=clock.wait
    ).run(max_cycles=8)
    failed, succeeded = ScheduledRun.objects.filter(scheduled_for__gte=at(2026, 1, 1)).order_by("scheduled_for")
    assert failed.status == "failed" and "数据库不可用" in failed.summary
    assert succeeded.status == "succeeded" and succeeded.scheduled_for == at(2026, 1, 2, 2, 30)


def test_a_stopped_loop_returns(db, calls):
    ScheduledRun.objects.create(
        job="nightly", scheduled_for=at(2025, 12, 31, 2, 30), started_at=at(2025, 12, 31, 2, 30), status="succeeded"
    )
    cut_off = ScheduledRun.objects.create(
        job="nightly", scheduled_for=at(2025, 12, 30, 2, 30), started_at=at(2025, 12, 30, 2, 30), status="running"
    )
    loop = scheduler.Scheduler(
        CronSchedule.parse("30 2 * * *", "Asia/Shanghai"),
        datetime.timedelta(minutes=5),
        now=lambda: at(2026, 1, 1, 1, 0),
    )
    loop.stop()  # what SIGTERM does
    loop.run()
    assert calls["nightly"] == [] and calls["deliver"] == 0
    cut_off.refresh_from_db()
    assert cut_off.status == "failed" and "中断" in cut_off.summary  # left running by a previous process


def test_a_real_nightly_run_is_recorded_with_its_summary(world):
    run = scheduler.run_nightly(at(2026, 1, 1, 2, 30))
    assert run.status == "succeeded" and "评分 3 家" in run.summary and "产品 3 个" in run.summary


def test_command_lists_next_run_times_and_refuses_bad_expressions(db):
    out = io.StringIO()
    call_command("risk", "scheduler", "--next", "2", "--schedule", "0 4 * * 1", stdout=out)
    times = [datetime.datetime.fromisoformat(line) for line in out.getvalue().split()]
    assert len(times) == 2 and times[1] - times[0] == datetime.timedelta(days=7)
    assert all(t.weekday() == 0 and t.hour == 4 for t in times)
    with pytest.raises(CommandError, match="调度表达式无效"):
        call_command("risk", "scheduler", "--next", "1", "--schedule", "99 * * * *")


def broken_job(as_of, now):
    raise RuntimeError("作业出错")


def test_the_night_runs_every_domain_job_and_survives_a_failing_one(world, settings):
    settings.YAOJIAN_DAILY_JOBS = [
        "yaojian.casework.jobs.daily",
        "yaojian.risk.tests.test_scheduler.broken_job",
        "yaojian.sentinel.jobs.daily",
        "yaojian.pharmacy.jobs.daily",
        "yaojian.trace.jobs.daily",
    ]
    run = scheduler.run_nightly(at(2026, 1, 1, 2, 30))
    assert run.status == "succeeded" and "评分 3 家" in run.summary
    for line in ("术语编码", "broken_job 失败", "聚集性信号", "药店预警", "追溯异常线索 0 条"):
        assert line in run.summary
