"""Trace event store 追溯事件库: Parquet files partitioned by date, read by DuckDB (default) or Spark.

Layout contract 存储约定 (shared by ingest, queries, anomaly scans and generated flows; change it only here, openly):

* Root: ``settings.YAOJIAN_TRACE_DIR`` (environment ``YAOJIAN_TRACE_DIR``, default ``<VAR_DIR>/trace``).
* Events: ``<root>/events/event_date=YYYY-MM-DD/part-*.parquet`` — hive partitioning by the UTC date of the event,
  one row per event × EPC (:meth:`yaojian.trace.epcis.EpcisEvent.epc_rows`), columns and types as :data:`SCHEMA`:
  ``event_time`` is TIMESTAMP WITH TIME ZONE (UTC, microseconds); ``quantity`` is DOUBLE (units moved per code —
  split packs 拆零 and quantity lists; a float is exact for every whole or half unit a pharmacy scans, and both
  engines aggregate it natively); ``expiry`` is an ISO date string or null; ``ingest_id`` names the ingest run.
  An event naming no EPC (a sensor reading at a place) keeps one row with ``role`` and ``epc`` null.
  ``event_date`` is not stored in the files: it is the partition directory (DuckDB and Spark read it as a DATE).
  Each file's rows are sorted by ``epc`` in row groups of :data:`EVENT_ROW_GROUP` rows, so that a code lookup reads
  the one or two small groups whose min/max hold its codes: a batch's codes occur on some sixty days, and one group
  of each day is decoded (at 100M rows a day's file holds about 270,000 rows; groups of 65,536 made a recall reach
  decode four million rows, groups of 8,192 half a million: 350 → 250 ms CPU at 30M rows, full scans unchanged).
* Hash index 事件指纹索引: ``<root>/hashes/part-*.parquet``, one row per stored event: ``h1``, ``h2`` (BIGINT, the
  two halves of MD5(event_hash) — 128 bits, so equal pairs mean equal hashes at any realistic volume). Ingest
  semi-joins new events against it, reading 16 bytes per stored event instead of the hash strings.
* Code index 追溯码索引: ``<root>/codes/part-*.parquet``, distinct (``epc``, ``event_date`` DATE, ``lot`` — the lot
  of a commissioning row, ``parent`` — the parent of an AggregationEvent ADD child row), sorted by ``epc``. A code
  or batch lookup reads it first and then opens only the date partitions where the codes occur.
* Lot index 批号索引: ``<root>/lots/part-*.parquet``, distinct (``lot``, ``epc``) of the commissioning rows that name
  a lot, sorted by ``lot``, so a batch lookup reads one group per file instead of the whole code index. Added after
  the code index: a store without it still answers (from the code index) until its next reindex.
* Both indexes are written in row groups of :data:`INDEX_ROW_GROUP` rows. An index file is one big sorted file after a
  reindex, and there DuckDB's cost per row group (its statistics are checked one by one, pruned or not) outweighs
  decoding: at 100M events a lot lookup took 26 ms over 3,591 groups of 8,192 rows and 2.4 ms over groups of 131,072;
  a code-range lookup 121 ms over groups of 8,192, 19 ms over 65,536 and 9–12 ms over 131,072.
* Whoever writes event files without :mod:`yaojian.trace.ingest` (e.g. generated flows) runs :meth:`Store.reindex`
  afterwards, which rebuilds every index from the event files.
* A party is ``urn:yaojian:uscc:<统一社会信用代码>``; a 药品追溯码 is ``urn:yaojian:tracecode:<20 digits>``.
* Master data (enterprises, products, batches, licences) stays in the platform database.

Compaction 合并小文件 (:meth:`Store.compact`, daily): every ingest adds one file to each day it touches and one to each
index, so a day uploaded by a thousand enterprises is a thousand files, each opened by a lookup of that day. Compaction
rewrites each such day as one file sorted by code and each index as one sorted file; the files it replaces are moved
to ``<root>/retired/`` and deleted an hour later, so a query that listed them just before still reads them.

Writes are all-or-nothing for one ingest: files are written under ``<root>/staging/<ingest_id>/`` and renamed into
place at the end under a file lock (``<root>/.lock``), the hash index file last, so a refused or failed ingest
leaves nothing visible and two concurrent ingests cannot both accept the same event. The renames are first written
down as a plan (``staging/<id>/plan.json``); whoever takes the lock next finishes a plan that was cut off half-way.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

SCHEMA = pa.schema(
    [
        ("event_hash", pa.string()),
        ("event_type", pa.string()),
        ("event_time", pa.timestamp("us", tz="UTC")),
        ("tz_offset", pa.string()),
        ("action", pa.string()),
        ("biz_step", pa.string()),
        ("disposition", pa.string()),
        ("read_point", pa.string()),
        ("biz_location", pa.string()),
        ("source_owner", pa.string()),
        ("destination_owner", pa.string()),
        ("parent_id", pa.string()),
        ("lot", pa.string()),
        ("expiry", pa.string()),
        ("role", pa.string()),
        ("epc", pa.string()),
        ("quantity", pa.float64()),
        ("uom", pa.string()),
        ("ingest_id", pa.string()),
    ]
)
COLUMNS = tuple(SCHEMA.names)
EVENT_ROW_GROUP = 8192  # rows per row group of an event file (see the layout contract above)
INDEX_ROW_GROUP = 131072  # rows per row group of a code or lot index file (see the layout contract above)
PARTY_URN = "urn:yaojian:uscc:"
TRACE_CODE_URN = "urn:yaojian:tracecode:"


RETIRED_KEEP_S = 3600  # replaced files outlive the queries that listed them before compaction


@dataclass
class CompactReport:
    """合并结果: day partitions and index files merged, files replaced."""

    days: int = 0
    indexes: int = 0
    files_replaced: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"合并 {self.days} 个日分区、{self.indexes} 个索引，替换 {self.files_replaced} 个文件"
            f"（{self.seconds:.1f} 秒）"
        )


def default_root() -> Path:
    from django.conf import settings

    return Path(settings.YAOJIAN_TRACE_DIR)


def new_ingest_id() -> str:
    return uuid.uuid4().hex[:16]


def sql_path(path: Path | str) -> str:
    """A path as a SQL string literal body (quotes doubled)."""
    return str(path).replace("'", "''")


class Store:
    """One store root: where its files are, the lock, and the all-or-nothing commit of an ingest."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else default_root()
        self.events = self.root / "events"
        self.hashes = self.root / "hashes"
        self.codes = self.root / "codes"
        self.lots = self.root / "lots"
        self.staging = self.root / "staging"

    def event_files(self) -> list[Path]:
        return sorted(self.events.glob("event_date=*/*.parquet"))

    def hash_files(self) -> list[Path]:
        return sorted(self.hashes.glob("*.parquet"))

    def code_files(self) -> list[Path]:
        return sorted(self.codes.glob("*.parquet"))

    def lot_files(self) -> list[Path]:
        return sorted(self.lots.glob("*.parquet"))

    @property
    def lots_glob(self) -> str:
        return sql_path(self.lots / "*.parquet")

    @property
    def codes_glob(self) -> str:
        return sql_path(self.codes / "*.parquet")

    @property
    def events_glob(self) -> str:
        return sql_path(self.events / "event_date=*" / "*.parquet")

    @property
    def hashes_glob(self) -> str:
        return sql_path(self.hashes / "*.parquet")

    def is_empty(self) -> bool:
        return next(self.events.glob("event_date=*/*.parquet"), None) is None

    @contextlib.contextmanager
    def locked(self):
        """Exclusive lock over check-and-commit, so concurrent ingests see each other's hashes."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                for plan in sorted(self.staging.glob("*/plan.json")):  # a commit cut off half-way is finished first
                    self._carry_out(plan)
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def staging_dir(self, ingest_id: str) -> Path:
        path = self.staging / ingest_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def discard(self, ingest_id: str) -> None:
        """Drop a staging folder, unless its commit is planned (then the next lock holder finishes it)."""
        if not (self.staging / ingest_id / "plan.json").exists():
            shutil.rmtree(self.staging / ingest_id, ignore_errors=True)

    def commit(self, ingest_id: str, retire: list[Path] = ()) -> int:
        """Move an ingest's staged files into place (events first, hash index last) and move ``retire`` out; returns
        files moved. Under the lock."""
        stage = self.staging / ingest_id
        moves = [
            (path, self.events / path.parent.name / path.name)
            for path in sorted((stage / "events").glob("event_date=*/*.parquet"))
        ]
        for index in ("codes", "lots", "hashes"):  # the hash index last: once it is there, the events count as stored
            moves += [(path, self.root / index / path.name) for path in sorted((stage / index).glob("*.parquet"))]
        self._apply(stage, moves, retire)
        return len(moves)

    def _apply(self, stage: Path, moves: list[tuple[Path, Path]], retire: list[Path]) -> None:
        """Write the plan of the moves into ``stage``, then carry it out. Every rename is atomic but a set of them is
        not: with the plan on disk, a commit cut off half-way (a crash, a full disk) is finished by the next holder
        of the lock, so an ingest is never half visible and its hash index never missing for long."""
        plan = stage / "plan.json"
        steps = {"moves": [(str(a), str(b)) for a, b in moves], "retire": [str(p) for p in retire]}
        with open(plan, "w") as fh:
            json.dump(steps, fh)
            fh.flush()
            os.fsync(fh.fileno())
        self._carry_out(plan)

    def reindex(self, memory_limit: str = "4GB") -> None:
        """Rebuild the hash, code and lot indexes from the event files (after files were written by other means).

        The sorts and distincts run over every stored row: under ``memory_limit`` DuckDB spills them to a folder of
        the staging area instead of holding them (14 GB at 100M rows without a limit)."""
        from .ingest import connect, write_indexes

        with self.locked():
            if self.is_empty():
                return
            con, ingest_id = connect(), "reindex-" + new_ingest_id()
            try:
                spill = self.staging_dir(ingest_id) / "spill"
                con.execute(f"SET memory_limit = '{memory_limit}'")
                con.execute(f"SET temp_directory = '{sql_path(spill)}'")
                con.execute(f"CREATE VIEW all_rows AS SELECT * FROM read_parquet('{self.events_glob}')")
                write_indexes(con, "all_rows", self.staging_dir(ingest_id))
                shutil.rmtree(self.staging / ingest_id / "spill", ignore_errors=True)
                self.commit(ingest_id, retire=self.code_files() + self.lot_files() + self.hash_files())
            finally:
                con.close()
                self.discard(ingest_id)

    def compact(self, min_files: int = 2, memory_limit: str = "4GB") -> CompactReport:
        """Merge each day partition of at least ``min_files`` files into one file sorted by code, and each index of
        several files into one (see the layout contract). Runs under the store lock, so ingests wait.

        The moves are planned (:meth:`_apply`): a compaction cut off half-way is finished by the next holder of the
        lock (new files in place first, then the replaced ones retired), so no row is ever lost, and rows stand twice
        only until then."""
        from .ingest import INDEX_ORDER, connect

        started = time.perf_counter()
        report = CompactReport()
        with self.locked():
            self._purge_retired()
            work = "compact-" + new_ingest_id()
            stage = self.staging_dir(work)
            con = connect()
            moves: list[tuple[Path, Path]] = []
            retire: list[Path] = []
            try:
                con.execute(f"SET memory_limit = '{memory_limit}'")
                con.execute(f"SET temp_directory = '{sql_path(stage / 'spill')}'")
                name = f"part-{work}.parquet"
                for day in sorted(self.events.glob("event_date=*")):
                    parts = sorted(day.glob("*.parquet"))
                    if len(parts) < min_files:
                        continue
                    merged = stage / "events" / day.name / name
                    merged.parent.mkdir(parents=True, exist_ok=True)
                    self._merge(con, parts, "epc", merged, EVENT_ROW_GROUP)
                    moves.append((merged, day / name))
                    retire += parts
                    report.days += 1
                for folder, order in INDEX_ORDER.items():
                    parts = sorted((self.root / folder).glob("*.parquet"))
                    if len(parts) < 2:
                        continue
                    merged = stage / folder / name
                    merged.parent.mkdir(parents=True, exist_ok=True)
                    self._merge(con, parts, order, merged, INDEX_ROW_GROUP, distinct=True)
                    moves.append((merged, self.root / folder / name))
                    retire += parts
                    report.indexes += 1
            finally:
                con.close()
                shutil.rmtree(stage / "spill", ignore_errors=True)
            if moves:
                self._apply(stage, moves, retire)
            else:
                self.discard(work)
            report.files_replaced = len(retire)
        report.seconds = time.perf_counter() - started
        return report

    @staticmethod
    def _merge(con, parts: list[Path], order: str, target: Path, row_group: int, distinct: bool = False) -> None:
        files = ", ".join(f"'{sql_path(p)}'" for p in parts)
        con.execute(
            f"""COPY (SELECT {"DISTINCT" if distinct else ""} * FROM read_parquet([{files}], hive_partitioning = false)
                      ORDER BY {order})
            TO '{sql_path(target)}' (FORMAT parquet, ROW_GROUP_SIZE {row_group})"""
        )

    def _carry_out(self, plan: Path) -> None:
        """Do the planned moves that are not done yet: new files into place, then the replaced ones retired."""
        steps = json.loads(plan.read_text())
        for source, target in steps["moves"]:
            if os.path.exists(source):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(source, target)
        retired = self.root / "retired" / plan.parent.name
        for old in map(Path, steps["retire"]):
            if old.exists():
                keep = retired / old.parent.name / old.name
                keep.parent.mkdir(parents=True, exist_ok=True)
                os.replace(old, keep)
        shutil.rmtree(plan.parent, ignore_errors=True)

    def _purge_retired(self) -> None:
        cutoff = time.time() - RETIRED_KEEP_S
        for folder in (self.root / "retired").glob("*"):
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
