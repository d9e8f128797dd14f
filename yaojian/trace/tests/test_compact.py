"""Compaction 合并小文件: each day's ingest files and each index become one sorted file, answers unchanged."""

import os
import time

import duckdb
import pytest

from yaojian.trace.ingest import ingest_bytes
from yaojian.trace.queries import Queries
from yaojian.trace.store import RETIRED_KEEP_S, Store

from .examples import DATA

UNIT = "urn:yaojian:tracecode:81234560000000000001"


def ingest_in_two_halves(root) -> Store:
    """The sample data set sent as two files (alternate rows), so several days get a file from each."""
    header, *rows = (DATA / "trace_dataset.csv").read_text(encoding="utf-8").splitlines()
    store = Store(root)
    for half in (rows[0::2], rows[1::2]):
        report = ingest_bytes("\n".join([header, *half, ""]).encode(), "half.csv", store)
        assert report.ok and report.accepted == len(half), report.reasons
    return store


def stored(store: Store) -> list:
    con = duckdb.connect()
    return sorted(con.execute(f"SELECT * FROM read_parquet('{store.events_glob}')").fetchall(), key=str)


def answers(root) -> tuple:
    queries = Queries(root, "duckdb")
    return queries.recall("B2026031"), queries.history(UNIT), queries.public(UNIT)


def files_per_day(store: Store) -> dict[str, int]:
    return {day.name: len(list(day.glob("*.parquet"))) for day in store.events.glob("event_date=*")}


def test_compaction_merges_days_and_indexes_keeping_every_row(tmp_path):
    store = ingest_in_two_halves(tmp_path)
    before_rows, before_answers = stored(store), answers(tmp_path)
    doubled = sum(1 for n in files_per_day(store).values() if n == 2)
    assert doubled and len(store.code_files()) == 2

    report = store.compact()

    assert set(files_per_day(store).values()) == {1}
    assert len(store.code_files()) == len(store.lot_files()) == len(store.hash_files()) == 1
    assert report.days == doubled  # days with one file are left as they are
    assert report.indexes == 3 and report.files_replaced > report.days
    assert stored(store) == before_rows and answers(tmp_path) == before_answers
    # The merged day file is sorted by code (lookups skip row groups by min/max).
    con = duckdb.connect()
    for path in store.event_files():
        codes = [r[0] for r in con.execute(f"SELECT epc FROM read_parquet('{path}')").fetchall()]
        assert codes == sorted(codes)
    # The replaced files wait in retired/ for queries that listed them; the hash index still knows every event.
    assert list((tmp_path / "retired").rglob("*.parquet"))
    again = ingest_bytes((DATA / "trace_dataset.csv").read_bytes(), "again.csv", store)
    assert (again.accepted, again.duplicate) == (0, 13)
    assert store.compact().files_replaced == 0  # nothing left to merge


def test_a_compaction_cut_off_is_finished_by_the_next(tmp_path, monkeypatch):
    store = ingest_in_two_halves(tmp_path)
    before = stored(store)

    def cut_off(self, plan):
        raise OSError("disk went away")

    monkeypatch.setattr(Store, "_carry_out", cut_off)
    with pytest.raises(OSError):
        store.compact()
    monkeypatch.undo()
    assert stored(store) == before  # nothing moved yet: the merged files wait in staging with their plan
    assert list(store.staging.glob("compact-*/plan.json"))

    store.compact()
    assert set(files_per_day(store).values()) == {1} and stored(store) == before
    assert not list(store.staging.glob("compact-*"))


def test_retired_files_are_deleted_after_an_hour(tmp_path):
    store = ingest_in_two_halves(tmp_path)
    store.compact()
    retired = next((tmp_path / "retired").iterdir())
    old = time.time() - RETIRED_KEEP_S - 60
    os.utime(retired, (old, old))
    store.compact()
    assert not retired.exists()


def test_compact_command(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    ingest_in_two_halves(tmp_path)
    out = StringIO()
    call_command("trace", "compact", "--root", str(tmp_path), stdout=out)
    assert "合并 1 个日分区、3 个索引" in out.getvalue()
