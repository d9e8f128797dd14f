"""Reporting deadlines and timeliness 报告时限与及时性, as SQL expressions over ``AdrReport``.

Definitions (parameters from the active ``CaseworkConfig`` version; defaults per 卫生部令第81号):

* Clock start 计时起点: the date of first knowledge ``received_on`` (E2B C.1.4). When it is missing
  the report date ``reported_on`` stands in and the case is flagged (``tl_start_missing``) — such a
  case can never appear late, which the timeliness page says beside its figures.
* Legal limit 法定时限: death 0 days (“立即报告” is read as due the same day as first knowledge, so a
  death reported the next day is 1 day late); serious 15 days; new (``is_new``) 15 days; others 30.
  A case is on time when ``reported_on − start ≤ limit`` (exactly 15 days is on time, 16 is late).
* Sentinel target 哨点即销即报: for reports with ``source = sentinel``, 7 days from the sale date
  ``sold_on``, or from first knowledge when the sale date is missing. Kept apart from the legal
  limit: a sentinel report may meet the law and miss the target.
* Follow-up due 随访到期: a death case calls for the holder's investigation report within 15 days of
  first knowledge (第二十二条). It counts as received when ``latest_received_on`` (E2B C.1.5) is after
  the start. “Near due” 临近到期 = not received and due within the next ``near_due_days`` days;
  “overdue” 逾期 = not received and the due date has passed. Cases have no draft state, so these
  follow-ups are the only deadlines still open once a case exists.

Every figure is an annotation computed by the database (date differences as durations, identical on
SQLite and PostgreSQL); per-unit statistics group those columns with DuckDB.
"""

import datetime

import duckdb
import pyarrow as pa
from django.db.models import BooleanField, Case, DurationField, ExpressionWrapper, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, NullIf

from yaojian.adr.models import ReportSource, Seriousness

from .models import CaseworkConfig

UNFILLED = "（未填写报告单位）"


def _days(n: int) -> Value:
    return Value(datetime.timedelta(days=int(n)), output_field=DurationField())


def _duration(expression) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=DurationField())


def limit_expression(config: CaseworkConfig) -> Case:
    """The legal limit of each case as a duration: death, serious, new, then the rest."""
    return Case(
        When(seriousness=Seriousness.DEATH, then=_days(config.value("death_days"))),
        When(seriousness=Seriousness.SERIOUS, then=_days(config.value("serious_days"))),
        When(is_new=True, then=_days(config.value("new_days"))),
        default=_days(config.value("general_days")),
        output_field=DurationField(),
    )


def annotate_timeliness(queryset: QuerySet, config: CaseworkConfig) -> QuerySet:
    """Add ``tl_*`` columns: start, start_missing, limit, delay, excess (days over the limit), late;
    and for sentinel reports ``tl_sentinel_excess`` and ``tl_sentinel_late``."""
    sentinel = Q(source=ReportSource.SENTINEL)
    return (
        queryset.annotate(
            tl_start=Coalesce("received_on", "reported_on"),
            tl_start_missing=Case(
                When(received_on__isnull=True, then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
            tl_limit=limit_expression(config),
            tl_sentinel_start=Coalesce("sold_on", "received_on", "reported_on"),
        )
        .annotate(
            tl_delay=_duration(F("reported_on") - F("tl_start")),
            tl_sentinel_delay=_duration(F("reported_on") - F("tl_sentinel_start")),
        )
        .annotate(
            tl_excess=_duration(F("tl_delay") - F("tl_limit")),
            tl_sentinel_excess=Case(
                When(sentinel, then=_duration(F("tl_sentinel_delay") - _days(config.value("sentinel_days")))),
                default=Value(None, output_field=DurationField()),
                output_field=DurationField(),
            ),
        )
        .annotate(
            tl_late=Case(
                When(tl_delay__gt=F("tl_limit"), then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
            tl_sentinel_late=Case(
                When(sentinel & Q(tl_sentinel_delay__gt=_days(config.value("sentinel_days"))), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
    )


def followups_open(queryset: QuerySet, config: CaseworkConfig) -> QuerySet:
    """Death cases whose follow-up (investigation) report has not been received 随访未到."""
    start = Coalesce("received_on", "reported_on")
    received = Q(latest_received_on__isnull=False, latest_received_on__gt=start)
    return queryset.filter(seriousness=Seriousness.DEATH).exclude(received)


def followups_near_due(queryset: QuerySet, config: CaseworkConfig, today: datetime.date) -> QuerySet:
    """Open follow-ups due today or within ``near_due_days`` days: start + followup_days ∈ [today, today + N]."""
    span = datetime.timedelta(days=config.value("followup_days"))
    window = datetime.timedelta(days=config.value("near_due_days"))
    return (
        followups_open(queryset, config)
        .annotate(fu_start=Coalesce("received_on", "reported_on"))
        .filter(fu_start__gte=today - span, fu_start__lte=today + window - span)
    )


def followups_overdue(queryset: QuerySet, config: CaseworkConfig, today: datetime.date) -> QuerySet:
    """Open follow-ups whose due date has passed: start + followup_days < today."""
    span = datetime.timedelta(days=config.value("followup_days"))
    return (
        followups_open(queryset, config)
        .annotate(fu_start=Coalesce("received_on", "reported_on"))
        .filter(fu_start__lt=today - span)
    )


def days_late(excess: datetime.timedelta | None) -> int:
    """Whole days over the limit 超期天数 (0 when on time)."""
    return max(0, excess.days) if excess is not None else 0


def unit_expression():
    """The reporting unit 报告单位: the registered enterprise's name, else the typed name."""
    return Coalesce("reporting_enterprise__name", NullIf("reporter_unit", Value("")), Value(UNFILLED))


STAT_COLUMNS = (
    "unit",
    "cases",
    "on_time",
    "on_time_rate",
    "median_delay",
    "max_delay",
    "late",
    "missing",
    "sentinel_cases",
    "sentinel_rate",
)


def unit_statistics(queryset: QuerySet, config: CaseworkConfig) -> list[dict]:
    """Per reporting unit: cases, on time, on-time rate, median and maximum delay (days), cases late,
    cases without a first-knowledge date, and for sentinel reports the 7-day target rate.

    One query fetches the annotated columns; DuckDB groups them (median is not portable SQL).
    Units with the lowest on-time rate come first.
    """
    rows = annotate_timeliness(queryset.annotate(tl_unit=unit_expression()), config).values_list(
        "tl_unit", "tl_delay", "tl_late", "tl_start_missing", "source", "tl_sentinel_late"
    )
    units, delays, late, missing, sentinel, sentinel_late = [], [], [], [], [], []
    for unit, delay, is_late, is_missing, source, s_late in rows.order_by().iterator(chunk_size=5000):
        units.append(unit)
        delays.append(delay.days)
        late.append(bool(is_late))
        missing.append(bool(is_missing))
        sentinel.append(source == ReportSource.SENTINEL)
        sentinel_late.append(bool(s_late))
    if not units:
        return []
    table = pa.table(
        {
            "unit": units,
            "delay": delays,
            "late": late,
            "missing": missing,
            "sentinel": sentinel,
            "sentinel_late": sentinel_late,
        }
    )
    con = duckdb.connect()
    con.register("cases", table)
    result = con.execute(
        """
        SELECT unit,
               count(*) AS cases,
               count(*) FILTER (WHERE NOT late) AS on_time,
               count(*) FILTER (WHERE NOT late) / count(*) AS on_time_rate,
               median(delay) AS median_delay,
               max(delay) AS max_delay,
               count(*) FILTER (WHERE late) AS late,
               count(*) FILTER (WHERE missing) AS missing,
               count(*) FILTER (WHERE sentinel) AS sentinel_cases,
               count(*) FILTER (WHERE sentinel AND NOT sentinel_late)
                   / nullif(count(*) FILTER (WHERE sentinel), 0) AS sentinel_rate
        FROM cases GROUP BY unit ORDER BY on_time_rate, cases DESC, unit
        """
    ).fetchall()
    con.close()
    return [dict(zip(STAT_COLUMNS, row, strict=True)) for row in result]
