"""Trace queries 追溯查询: code history, public code query, recall reach, batch flows, stock by holder.

Each query is SQL text written once and run as is by DuckDB (default, in process) or Spark (PySpark, local mode)
over the store's Parquet layout (:mod:`yaojian.trace.store`); the engines are those of the anomaly scans
(:class:`yaojian.trace.anomalies.DuckDBEngine` / ``SparkEngine``), which expose the events as ``raw_events`` and
``unix_micros`` on both. Times leave the engines as microseconds since the epoch (BIGINT), so both give identical
answers; names of parties and products are joined in Python from the platform database (:mod:`yaojian.trace.views`).

Aggregation 包装关联 (pack → case → pallet): an AggregationEvent ADD puts a child into a parent from that moment; the
child leaves it at its own next custody event (picked from the case and moved on its own) or an unpack (DELETE).
While inside, the parent's events apply to the child: units in a case shipped as the case go where the case goes.

Custody 持有: commissioning and receiving leave a unit with the acting party, shipping with the consignee (in transit
until received), a return (receiving, disposition returned) with the party taking it back; retail_selling,
dispensing, destroying and decommissioning (and an ObjectEvent DELETE) take it out of the supply chain — except a
split-pack dispensing (partially_dispensed), after which the rest of the pack is still held.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from .store import SCHEMA, TRACE_CODE_URN, Store, sql_path

ENGINES = ("duckdb", "spark")
BIG = "CAST(9223372036854775807 AS BIGINT)"
SALE_STEPS = ("retail_selling", "dispensing")
REMOVAL_STEPS = ("retail_selling", "dispensing", "destroying", "decommissioning")
CUSTODY_STEPS = ("commissioning", "shipping", "receiving") + REMOVAL_STEPS
STATE_LABELS = {
    "held": "在库",
    "in_transit": "在途",
    "partial": "拆零在库",
    "sold": "已零售",
    "dispensed": "已发药",
    "destroyed": "已销毁/注销",
}
_SAFE = re.compile(r"^[A-Za-z0-9:;/._%~+=#()\-]{1,200}$")


def literal(value: str) -> str:
    """A SQL string literal for a code, lot or party; anything outside URI characters is refused outright."""
    if not _SAFE.match(value or ""):
        raise ValueError(f"无效的查询值：{value!r}")
    return "'" + value.replace("'", "''") + "'"


def _in(values) -> str:
    return ", ".join(literal(v) for v in values)


# The acting party of a row (as the anomaly scans define it): its business location when that is a party.
ACTOR = """CASE WHEN biz_location LIKE 'urn:yaojian:uscc:%' THEN biz_location
   WHEN biz_step = 'shipping' THEN source_owner
   WHEN biz_step = 'receiving' THEN destination_owner
   ELSE coalesce(biz_location, source_owner, destination_owner) END"""

CUSTODY = f"""
SELECT epc, unix_micros(event_time) AS tus, event_hash, biz_step, disposition,
  CASE WHEN biz_step = 'dispensing' AND disposition = 'partially_dispensed' THEN 'partial'
       WHEN biz_step = 'retail_selling' THEN 'sold'
       WHEN biz_step = 'dispensing' THEN 'dispensed'
       WHEN biz_step IN ('destroying', 'decommissioning') OR action = 'DELETE' THEN 'destroyed'
       WHEN biz_step = 'shipping' AND destination_owner IS NOT NULL THEN 'in_transit'
       ELSE 'held' END AS state,
  CASE WHEN biz_step = 'shipping' THEN coalesce(destination_owner, {ACTOR})
       WHEN biz_step = 'receiving' THEN coalesce(destination_owner, {ACTOR})
       ELSE {ACTOR} END AS holder,
  source_owner
FROM raw_events
WHERE role = 'epc' AND event_type = 'ObjectEvent'
  AND (biz_step IN ({_in(CUSTODY_STEPS)}) OR action = 'DELETE')
  AND epc IN (SELECT code FROM codes)"""

_AGG_ADD = "event_type = 'AggregationEvent' AND action = 'ADD' AND role = 'child' AND parent_id IS NOT NULL"


def unit_events_sql(units_sql: str) -> str:
    """CTEs ending in ``unit_events``: every custody event that applies to each unit of ``units_sql`` (column
    ``unit``), its own or its case's/pallet's while it was inside (``via`` is the code the event was about)."""
    return f"""
WITH u AS ({units_sql}),
e1 AS (SELECT epc AS child, parent_id AS parent, min(unix_micros(event_time)) AS t_in FROM raw_events
       WHERE {_AGG_ADD} AND epc IN (SELECT unit FROM u) GROUP BY epc, parent_id),
e2 AS (SELECT epc AS child, parent_id AS parent, min(unix_micros(event_time)) AS t_in FROM raw_events
       WHERE {_AGG_ADD} AND epc IN (SELECT parent FROM e1) GROUP BY epc, parent_id),
codes AS (SELECT unit AS code FROM u UNION SELECT parent FROM e1 UNION SELECT parent FROM e2),
unpacked AS (SELECT epc AS child, parent_id AS parent, unix_micros(event_time) AS tus FROM raw_events
           WHERE event_type = 'AggregationEvent' AND action = 'DELETE' AND role = 'child'
             AND epc IN (SELECT code FROM codes)),
cust AS ({CUSTODY}),
leaves AS (SELECT child, parent, tus FROM unpacked UNION ALL SELECT epc AS child, NULL AS parent, tus FROM cust),
m1 AS (SELECT e.child, e.parent, e.t_in, coalesce(min(l.tus), {BIG}) AS t_out FROM e1 e
       LEFT JOIN leaves l ON l.child = e.child AND (l.parent IS NULL OR l.parent = e.parent) AND l.tus > e.t_in
       GROUP BY e.child, e.parent, e.t_in),
m2 AS (SELECT e.child, e.parent, e.t_in, coalesce(min(l.tus), {BIG}) AS t_out FROM e2 e
       LEFT JOIN leaves l ON l.child = e.child AND (l.parent IS NULL OR l.parent = e.parent) AND l.tus > e.t_in
       GROUP BY e.child, e.parent, e.t_in),
applies AS (
  SELECT unit, unit AS code, CAST(-1 AS BIGINT) AS t_in, {BIG} AS t_out FROM u
  UNION ALL SELECT child AS unit, parent AS code, t_in, t_out FROM m1
  UNION ALL SELECT a.child AS unit, b.parent AS code, greatest(a.t_in, b.t_in) AS t_in, least(a.t_out, b.t_out) AS t_out
  FROM m1 a JOIN m2 b ON b.child = a.parent WHERE greatest(a.t_in, b.t_in) < least(a.t_out, b.t_out)),
unit_events AS (
  SELECT a.unit, c.epc AS via, c.tus, c.event_hash, c.biz_step, c.state, c.holder, c.source_owner
  FROM applies a JOIN cust c ON c.epc = a.code AND c.tus >= a.t_in AND c.tus < a.t_out)"""


def holdings_sql(units_sql: str) -> str:
    """Per unit its latest custody event: holder and state (held / in_transit / partial / sold …)."""
    return (
        unit_events_sql(units_sql)
        + """,
ranked AS (SELECT unit_events.*, row_number() OVER (PARTITION BY unit ORDER BY tus DESC, event_hash DESC) AS rn
           FROM unit_events)
SELECT unit, holder, state, tus FROM ranked WHERE rn = 1"""
    )


def batch_units_sql(lot: str, product: str | None = None) -> str:
    """Units 最小包装 of a batch: codes commissioned with the lot number that never contain others."""
    where = f"role = 'epc' AND biz_step = 'commissioning' AND lot = {literal(lot)}"
    if product:
        where += f" AND epc LIKE {literal('urn:yaojian:tracecode:' + product + '%')}"
    # A container is known by its own parent row, which every AggregationEvent ADD has (parentID is required there):
    # that row is among the batch's rows, where its children's rows need not be (a case of other batches' units).
    return f"""SELECT DISTINCT epc AS unit FROM raw_events WHERE {where}
  AND epc NOT IN (SELECT epc FROM raw_events WHERE event_type = 'AggregationEvent' AND action = 'ADD'
                  AND role = 'parent' AND epc IS NOT NULL)"""


# ---------------------------------------------------------------- the statements 查询语句


def recall_sql(lot: str, product: str | None = None) -> str:
    """Recall reach 召回范围: units per (holder, state) for the batch."""
    return f"""
WITH h AS ({holdings_sql(batch_units_sql(lot, product))})
SELECT holder, state, CAST(count(*) AS BIGINT) AS units, max(tus) AS last_tus
FROM h GROUP BY holder, state ORDER BY holder, state"""


def flows_sql(lot: str, product: str | None = None) -> str:
    """Batch flows 流向: units shipped between parties, and units leaving the chain at each party."""
    return (
        unit_events_sql(batch_units_sql(lot, product))
        + """
SELECT source, target, CAST(count(DISTINCT unit) AS BIGINT) AS units FROM (
  SELECT unit, coalesce(source_owner, 'unknown') AS source, holder AS target FROM unit_events
  WHERE biz_step = 'shipping' AND holder IS NOT NULL
  UNION ALL
  SELECT unit, holder AS source, concat('@', state) AS target FROM unit_events
  WHERE state IN ('sold', 'dispensed', 'destroyed', 'partial') AND holder IS NOT NULL
) f GROUP BY source, target ORDER BY source, target"""
    )


def stock_sql(holder: str) -> str:
    """Stock by holder 库存: units now held (or in transit to) the party, by product identifier and lot."""
    party = literal(holder)
    touched = f"""SELECT DISTINCT epc AS code FROM raw_events
      WHERE role = 'epc' AND (destination_owner = {party} OR biz_location = {party})"""
    units = f"""SELECT code AS unit FROM (
      SELECT code FROM t0
      UNION SELECT epc AS code FROM raw_events WHERE {_AGG_ADD} AND parent_id IN (SELECT code FROM t0)
      UNION SELECT epc AS code FROM raw_events WHERE {_AGG_ADD} AND parent_id IN (
        SELECT epc FROM raw_events WHERE {_AGG_ADD} AND parent_id IN (SELECT code FROM t0))) x
    WHERE code NOT IN (SELECT parent_id FROM raw_events WHERE {_AGG_ADD})"""
    inner = holdings_sql(units).replace("WITH u AS (", f"WITH t0 AS ({touched}),\nu AS (", 1)
    return f"""
WITH h AS ({inner}),
lots AS (SELECT epc, max(lot) AS lot, max(expiry) AS expiry FROM raw_events
         WHERE role = 'epc' AND biz_step = 'commissioning' AND epc IN (SELECT unit FROM h) GROUP BY epc)
SELECT CASE WHEN h.unit LIKE 'urn:yaojian:tracecode:%' THEN substr(h.unit, 23, 7) ELSE 'other' END AS product,
       l.lot, l.expiry, h.state, CAST(count(*) AS BIGINT) AS units
FROM h LEFT JOIN lots l ON l.epc = h.unit
WHERE h.holder = {party} AND h.state IN ('held', 'in_transit', 'partial')
GROUP BY 1, l.lot, l.expiry, h.state ORDER BY 1, l.lot, h.state"""


# The columns the batch queries (recall reach, flows) read: a batch's rows are held in memory with these only.
BATCH_COLUMNS = (
    "event_hash", "event_type", "event_time", "action", "biz_step", "disposition", "biz_location", "source_owner",
    "destination_owner", "parent_id", "lot", "role", "epc",
)  # fmt: skip

HISTORY_COLUMNS = (
    "event_hash", "event_type", "action", "biz_step", "disposition", "read_point", "biz_location", "source_owner",
    "destination_owner", "parent_id", "role", "epc", "quantity", "lot", "expiry", "tz_offset",
)  # fmt: skip


def history_sql(codes: list[str]) -> str:
    cols = ", ".join(HISTORY_COLUMNS)
    return f"""SELECT {cols}, unix_micros(event_time) AS tus FROM raw_events WHERE epc IN ({_in(codes)})
ORDER BY tus, event_hash, role, epc"""


def parents_sql(codes: list[str]) -> str:
    return f"""SELECT DISTINCT epc AS child, parent_id AS parent, min(unix_micros(event_time)) AS t_in
FROM raw_events WHERE {_AGG_ADD} AND epc IN ({_in(codes)}) GROUP BY epc, parent_id ORDER BY parent"""


def public_sql(code: str) -> str:
    """What the public may know of one code 公众查询: lot, expiry, commissioning time, number of sales."""
    return f"""SELECT max(CASE WHEN biz_step = 'commissioning' THEN lot END) AS lot,
  max(CASE WHEN biz_step = 'commissioning' THEN expiry END) AS expiry,
  min(CASE WHEN biz_step = 'commissioning' THEN unix_micros(event_time) END) AS commissioned_tus,
  CAST(count(DISTINCT CASE WHEN biz_step IN ({_in(SALE_STEPS)}) THEN event_hash END) AS BIGINT) AS sales,
  CAST(count(*) AS BIGINT) AS events
FROM raw_events WHERE role = 'epc' AND epc = {literal(code)}"""


# ---------------------------------------------------------------- running them 执行


def default_engine() -> str:
    from django.conf import settings

    return getattr(settings, "YAOJIAN_TRACE_ENGINE", "duckdb") if settings.configured else "duckdb"


_ENGINES = {}


def spark():
    """The process's SparkSession (created once: startup takes seconds)."""
    if "spark" not in _ENGINES:
        from .anomalies import spark_session

        _ENGINES["spark"] = spark_session()
    return _ENGINES["spark"]


def duckdb_cursor():
    """A DuckDB engine on its own cursor of the process's in-memory database: opening a database and setting it up
    costs tens of milliseconds, a cursor almost nothing; each cursor keeps its own temporary views."""
    from .anomalies import DuckDBEngine

    if "duckdb" not in _ENGINES:
        _ENGINES["duckdb"] = DuckDBEngine(memory_limit="2GB")  # memory, threads and unix_micros are database-wide
        # Parquet footers stay parsed between lookups: parsing costs about 2 µs per column chunk, 1 ms for a day's file
        # at 100M events, a third of a recall reach. Store files are never rewritten in place (new names each time);
        # DuckDB re-reads a footer whose file changed anyway.
        _ENGINES["duckdb"].con.execute("SET parquet_metadata_cache = true")
    runner = DuckDBEngine.__new__(DuckDBEngine)
    runner.con = _ENGINES["duckdb"].con.cursor()
    return runner


class Session:
    """One engine over one store: ``raw_events`` (all partitions, or those the code index points to), the code
    index as ``code_index``, the lot index (where the store has one) as ``lot_index``, and small Python tables
    registered by name."""

    def __init__(self, runner, store: Store):
        self.runner, self.store = runner, store
        self.indexed = bool(store.code_files())
        self.lot_indexed = self.indexed and bool(store.lot_files())
        if not self.indexed:
            self.everything()
            return
        self.view("code_index", store.codes, store.codes_glob)
        if self.lot_indexed:
            self.view("lot_index", store.lots, store.lots_glob)

    def view(self, name: str, folder: Path, glob: str) -> None:
        if self.runner.name == "spark":
            self.runner.spark.read.parquet(str(folder)).createOrReplaceTempView(name)
        else:
            self.runner.con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{glob}')")

    def everything(self) -> None:
        """``raw_events`` over every partition (binding it reads every file's footer: only for whole-store queries)."""
        self.runner.load(self.store.root, {})

    def rows(self, sql: str) -> list[dict]:
        return self.runner.arrow(sql).to_pylist()

    def register(self, name: str, values: list[str]) -> None:
        table = pa.table({"code": pa.array(sorted(set(values)), pa.string())})
        if self.runner.name == "spark":
            self.runner.spark.createDataFrame(table).createOrReplaceTempView(name)
        else:
            self.runner.con.register(name, table)

    def restrict(self, codes: list[str], dates: list[str] | None = None, held: bool = False) -> None:
        """``raw_events`` as the rows of the codes in the date partitions where they occur (``dates``, from the code
        index): a lookup opens a few files and, by the codes' ranges, mostly one row group of each, once, instead of
        every row of every day at each step of its query. ``held``: the rows of :data:`BATCH_COLUMNS` are read once
        into memory (a batch's queries read ``raw_events`` six times). Answers are unchanged; without an index every
        partition is read."""
        if not self.indexed:
            return
        self.register("wanted", codes)
        if dates is None:
            dates = [r["d"] for r in self.rows(_dates_sql(codes))]
        paths = [self.store.events / f"event_date={d}" for d in dates]
        mine = f"{_bounds(codes)} AND epc IN (SELECT code FROM wanted)"
        if self.runner.name == "spark":
            reader = self.runner.spark.read.option("basePath", str(self.store.events))
            frame = reader.parquet(*map(str, paths)) if paths else reader.schema(_spark_schema()).parquet()
            frame.createOrReplaceTempView("partitions")
            self.runner.spark.sql(f"SELECT * FROM partitions WHERE {mine}").createOrReplaceTempView("raw_events")
            return
        globs = ", ".join(f"'{sql_path(p / '*.parquet')}'" for p in paths)
        source = (
            f"read_parquet([{globs}], hive_partitioning = true)"
            if paths
            else f"(SELECT * FROM read_parquet('{self.store.events_glob}', hive_partitioning = true) LIMIT 0)"
        )
        # No view over the partitions alone: creating one reads every file's footer, again for each view.
        if held:
            own = f"SELECT {', '.join(BATCH_COLUMNS)} FROM {source} WHERE {mine}"
            self.runner.con.register("raw_events", self.runner.arrow(own))
        else:
            self.runner.con.execute(f"CREATE OR REPLACE VIEW raw_events AS SELECT * FROM {source} WHERE {mine}")

    def family(self, codes: list[str]) -> tuple[list[str], list[str] | None]:
        """The codes with their cases and pallets 上级包装 (two levels up), and the dates on which any of them occur
        (from the code index, read once per level; ``None`` without an index, whose parents come from the events)."""
        out, level, dates = set(codes), sorted(set(codes)), set()
        for depth in range(3):
            if not level or (depth == 2 and not self.indexed):  # a pallet's own parent is not needed
                break
            self.register("wanted", level)
            if self.indexed:
                found = self.rows(
                    f"""SELECT DISTINCT CAST(event_date AS STRING) AS d, parent AS p FROM code_index
                    WHERE {_bounds(level)} AND epc IN (SELECT code FROM wanted)"""
                )
                dates |= {r["d"] for r in found}
            else:
                found = self.rows(
                    f"""SELECT DISTINCT parent_id AS p FROM raw_events
                    WHERE {_AGG_ADD} AND epc IN (SELECT code FROM wanted)"""
                )
            level = sorted({r["p"] for r in found if r["p"]} - out) if depth < 2 else []
            out |= set(level)
        return sorted(out), sorted(dates) if self.indexed else None

    def lot_codes(self, lot: str, product: str | None) -> list[str]:
        where = f"lot = {literal(lot)}"
        if product:
            where += f" AND epc LIKE {literal(TRACE_CODE_URN + product + '%')}"
        table = "lot_index" if self.lot_indexed else "code_index" if self.indexed else "raw_events"
        return [r["epc"] for r in self.rows(f"SELECT DISTINCT epc FROM {table} WHERE {where}")]


def _bounds(codes: list[str]) -> str:
    """The codes' literal ranges, one per packaging level's 药品标识码 (a batch's units, its cases and its pallets are
    each mostly one run of serials): the code index is sorted by code, so both engines skip the row groups outside
    them by their min/max, where a join against ``wanted`` alone reads every group."""
    runs: dict[str, list[str]] = {}
    for code in codes:
        runs.setdefault(code[: len(TRACE_CODE_URN) + 7], []).append(code)
    if len(runs) > 20:  # many products: one range over all
        runs = {"": codes}
    ranges = (f"epc BETWEEN {literal(min(run))} AND {literal(max(run))}" for run in runs.values())
    return "(" + " OR ".join(ranges) + ")"


def _dates_sql(codes: list[str]) -> str:
    return f"""SELECT DISTINCT CAST(event_date AS STRING) AS d FROM code_index
WHERE {_bounds(codes)} AND epc IN (SELECT code FROM wanted) ORDER BY d"""


def _spark_schema():
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType, TimestampType

    kinds = {"event_time": TimestampType(), "quantity": DoubleType()}
    return StructType([StructField(n, kinds.get(n, StringType())) for n in SCHEMA.names])


@contextmanager
def open_session(root: Path | str | None = None, engine: str | None = None):
    """A :class:`Session` over the store; ``None`` when the store holds no events yet."""
    from .anomalies import SparkEngine

    store = Store(root)
    engine = engine or default_engine()
    if engine not in ENGINES:
        raise ValueError(f"未知的查询引擎 {engine!r}，应为 duckdb 或 spark")
    if store.is_empty():
        yield None
        return
    runner = SparkEngine(spark()) if engine == "spark" else duckdb_cursor()
    try:
        yield Session(runner, store)
    finally:
        runner.close()


class Queries:
    """The trace queries over one store with one engine; every method returns plain rows (lists of dicts)."""

    def __init__(self, root: Path | str | None = None, engine: str | None = None):
        self.root, self.engine = root, engine

    def history(self, code: str) -> list[dict]:
        """Every event touching the code, itself or its case/pallet while it was inside (``via`` = that code)."""
        with open_session(self.root, self.engine) as session:
            if session is None:
                return []
            session.restrict(*session.family([code]))
            windows = {code: -1}
            level = [code]
            for _depth in range(2):  # pack → case → pallet
                edges = session.rows(parents_sql(level))
                for e in edges:
                    windows.setdefault(e["parent"], max(e["t_in"], windows[e["child"]]))
                level = sorted({e["parent"] for e in edges} - {code})
                if not level:
                    break
            rows = session.rows(history_sql(sorted(windows)))
        out = []
        for row in rows:
            if row["epc"] != code and row["tus"] < windows[row["epc"]]:
                continue  # the case's events from before the unit was packed into it
            row["via"] = None if row["epc"] == code else row["epc"]
            out.append(row)
        return out

    def public(self, code: str) -> dict | None:
        with open_session(self.root, self.engine) as session:
            if session is None:
                return None
            session.restrict([code])
            rows = session.rows(public_sql(code))
        return rows[0] if rows and rows[0]["events"] else None

    def _batch(self, sql: str, lot: str, product: str | None) -> list[dict]:
        with open_session(self.root, self.engine) as session:
            if session is None:
                return []
            codes = session.lot_codes(lot, product)
            if not codes:
                return []
            session.restrict(*session.family(codes), held=True)
            return session.rows(sql)

    def recall(self, lot: str, product: str | None = None) -> list[dict]:
        return self._batch(recall_sql(lot, product), lot, product)

    def flows(self, lot: str, product: str | None = None) -> list[dict]:
        return self._batch(flows_sql(lot, product), lot, product)

    def stock(self, holder: str) -> list[dict]:
        """Stock reads every partition: which codes reached a party is not in the code index."""
        with open_session(self.root, self.engine) as session:
            if session is None:
                return []
            session.everything()
            return session.rows(stock_sql(holder))
