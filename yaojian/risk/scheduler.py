"""Scheduler 定时作业: runs the nightly risk job on a cron-like schedule and delivers pushes between runs.

``yaojian risk scheduler`` is one long-running process beside the web server (a systemd
service or a container; see docs/operations.md). It needs nothing beyond the database:

* the nightly job (``jobs.nightly``: full recomputation, rules, overdue escalation, deliveries)
  at the times of a five-field cron expression (``YAOJIAN_RISK_SCHEDULE``, default
  ``30 2 * * *`` — 02:30 every day, in the project's time zone ``TIME_ZONE``);
* webhook deliveries that are due (``pushes.deliver_due``) every few minutes
  (``YAOJIAN_RISK_DELIVER_MINUTES``, default 5), so retries with backoff go out on time.

Each nightly run is recorded as a ``ScheduledRun``. On start, a run missed while the process
was down (the latest scheduled time has no successful run) is made up at once.
"""

import datetime
import logging
import os
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from . import jobs, pushes
from .models import ScheduledRun

log = logging.getLogger("yaojian.risk.scheduler")

DEFAULT_SCHEDULE = "30 2 * * *"
DEFAULT_DELIVER_MINUTES = 5
NIGHTLY = "nightly"
# Fields of a cron expression: name and allowed range.
FIELDS = (("分", 0, 59), ("时", 0, 23), ("日", 1, 31), ("月", 1, 12), ("星期", 0, 7))
SEARCH_DAYS = 366 * 5  # long enough for any satisfiable expression (29 February included)


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    """One cron field: ``*``, ``n``, ``a-b``, with ``/step``, comma-separated."""
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if base == "*":
                start, stop = low, high
            elif "-" in base:
                start, stop = (int(x) for x in base.split("-", 1))
            else:
                start = int(base)
                stop = high if step_text else start
        except ValueError as exc:
            raise ValueError(f"{name}字段无法解析：{part}") from exc
        if step < 1 or not (low <= start <= stop <= high):
            raise ValueError(f"{name}字段超出范围 {low}–{high}：{part}")
        values.update(range(start, stop + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class CronSchedule:
    """A five-field cron expression (minute hour day-of-month month day-of-week), in one time zone.

    As in cron, when both day fields are restricted a day matches if either does; day of week
    0 and 7 are Sunday.
    """

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: str | None = None) -> "CronSchedule":
        parts = text.split()
        if len(parts) != 5:
            raise ValueError(f"应为 5 个字段（分 时 日 月 星期）：{text!r}")
        minutes, hours, days, months, weekdays = (
            _field(part, name, low, high) for part, (name, low, high) in zip(parts, FIELDS, strict=True)
        )
        weekdays = frozenset(d % 7 for d in weekdays)
        schedule = cls(
            minutes, hours, days, months, weekdays, parts[2] == "*", parts[4] == "*", ZoneInfo(tz or settings.TIME_ZONE)
        )
        if schedule._day_search(datetime.date(2000, 1, 1), 1) is None:
            raise ValueError(f"该表达式永不触发：{text!r}")
        return schedule

    def _day_matches(self, day: datetime.date) -> bool:
        if day.month not in self.months:
            return False
        dom, dow = day.day in self.days, (day.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow

    def _day_search(self, day: datetime.date, direction: int) -> datetime.date | None:
        for _ in range(SEARCH_DAYS):
            if self._day_matches(day):
                return day
            day += datetime.timedelta(days=direction)
        return None

    def _times(self) -> list[datetime.time]:
        return [datetime.time(h, m) for h in sorted(self.hours) for m in sorted(self.minutes)]

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        """The first scheduled time strictly after ``moment`` (an aware datetime)."""
        local = moment.astimezone(self.tz)
        day = local.date()
        clock = local.time().replace(second=0, microsecond=0)
        while True:
            day = self._day_search(day, 1)
            later = [t for t in self._times() if day != local.date() or t > clock]
            if later:
                return datetime.datetime.combine(day, later[0], tzinfo=self.tz)
            day += datetime.timedelta(days=1)

    def latest_at_or_before(self, moment: datetime.datetime) -> datetime.datetime:
        """The last scheduled time at or before ``moment``."""
        local = moment.astimezone(self.tz)
        day = local.date()
        clock = local.time()
        while True:
            day = self._day_search(day, -1)
            earlier = [t for t in self._times() if day != local.date() or t <= clock]
            if earlier:
                return datetime.datetime.combine(day, earlier[-1], tzinfo=self.tz)
            day -= datetime.timedelta(days=1)


def configured_schedule() -> CronSchedule:
    text = getattr(settings, "YAOJIAN_RISK_SCHEDULE", None) or os.environ.get("YAOJIAN_RISK_SCHEDULE", DEFAULT_SCHEDULE)
    return CronSchedule.parse(text)


def configured_deliver_interval() -> datetime.timedelta:
    minutes = getattr(settings, "YAOJIAN_RISK_DELIVER_MINUTES", None) or os.environ.get(
        "YAOJIAN_RISK_DELIVER_MINUTES", DEFAULT_DELIVER_MINUTES
    )
    return datetime.timedelta(minutes=float(minutes))


def run_nightly(scheduled_for: datetime.datetime) -> ScheduledRun:
    """One nightly run for the scheduled time, recorded whether it succeeds or fails."""
    run = ScheduledRun.objects.create(job=NIGHTLY, scheduled_for=scheduled_for, started_at=timezone.now())
    try:
        result = jobs.nightly(as_of=timezone.localdate(scheduled_for))
    except Exception:  # a failed night is recorded and retried at the next scheduled time
        log.exception("夜间作业失败")
        run.status, run.summary = ScheduledRun.Status.FAILED, traceback.format_exc(limit=5)[-2000:]
    else:
        run.status = ScheduledRun.Status.SUCCEEDED
        run.summary = (
            f"评分 {result.recompute.scored} 家（变化 {result.recompute.changed}），"
            f"产品 {result.recompute.products_scored} 个（变化 {result.recompute.products_changed}）；"
            f"规则触发 {result.rules.fired}、解除 {result.rules.cleared}；逾期督办 {result.escalated} 件；"
            f"推送送达 {result.delivered}、待重试 {result.undelivered}"
        )
        run.summary = "；".join([*result.domains, run.summary])
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "summary", "finished_at"])
    return run


def missed_run(schedule: CronSchedule, now: datetime.datetime) -> datetime.datetime | None:
    """The latest scheduled time if it has no successful run (the process was down then)."""
    latest = schedule.latest_at_or_before(now)
    done = ScheduledRun.objects.filter(
        job=NIGHTLY, scheduled_for__gte=latest, status=ScheduledRun.Status.SUCCEEDED
    ).exists()
    return None if done else latest


class Scheduler:
    """The loop. ``now`` and ``wait`` are injectable so the schedule is tested without waiting."""

    def __init__(
        self,
        schedule: CronSchedule,
        deliver_every: datetime.timedelta,
        *,
        now: Callable[[], datetime.datetime] = timezone.now,
        wait: Callable[[float], bool] | None = None,
    ):
        self.schedule, self.deliver_every, self.now = schedule, deliver_every, now
        self.stopped = threading.Event()
        self.wait = wait or self.stopped.wait  # returns True once stopped

    def stop(self, *args) -> None:
        self.stopped.set()

    def run(self, max_cycles: int | None = None) -> None:
        start = self.now()
        # A run still marked as running was cut off by a stop or crash of the previous process.
        ScheduledRun.objects.filter(status=ScheduledRun.Status.RUNNING).update(
            status=ScheduledRun.Status.FAILED, summary="调度进程中断，未完成", finished_at=start
        )
        pending = missed_run(self.schedule, start)
        next_nightly = pending or self.schedule.next_after(start)
        next_delivery = start
        log.info("调度启动：下次夜间作业 %s", next_nightly.isoformat())
        cycles = 0
        while not self.stopped.is_set() and (max_cycles is None or cycles < max_cycles):
            cycles += 1
            moment = self.now()
            if moment >= next_nightly:
                close_old_connections()  # a long-lived process must not reuse a dropped connection
                run_nightly(next_nightly)
                next_nightly = self.schedule.next_after(max(moment, next_nightly))
                next_delivery = self.now() + self.deliver_every  # the nightly job delivered just now
                log.info("下次夜间作业 %s", next_nightly.isoformat())
            elif moment >= next_delivery:
                close_old_connections()
                try:
                    pushes.deliver_due()
                except Exception:  # a broken receiver or database hiccup must not end the scheduler
                    log.exception("推送发送失败")
                jobs.run_jobs(settings.YAOJIAN_FREQUENT_JOBS, moment)
                next_delivery = moment + self.deliver_every
            pause = (min(next_nightly, next_delivery) - self.now()).total_seconds()
            if pause > 0 and self.wait(pause):
                break
