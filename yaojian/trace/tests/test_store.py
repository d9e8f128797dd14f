"""The store layout contract 存储约定 and its indexes."""

import datetime as dt

import duckdb
import pyarrow.parquet as pq

from yaojian.trace import flows
from yaojian.trace.ingest import ingest_file
from yaojian.trace.store import SCHEMA, Store

from .examples import DATA

REGISTRY = {"8123456": "小盒", "8123457": "箱"}


def load_sample(root) -> Store:
    """The sample data set (maker → wholesaler → pharmacy/hospital, a case of four units) in a fresh store."""
    store = Store(root)
    report = ingest_file(DATA / "trace_dataset.csv", store, REGISTRY)
    assert report.ok and report.accepted == 13, report.reasons
    return store


def _table(con, glob):
    return sorted(con.execute(f"SELECT * FROM read_parquet('{glob}')").fetchall(), key=str)


def test_files_follow_the_layout(tmp_path):
    store = load_sample(tmp_path)
    files = store.event_files()
    assert files and all(f.parent.name.startswith("event_date=2026-") and f.name.startswith("part-") for f in files)
    schema = pq.read_schema(files[0])
    assert schema.remove_metadata() == SCHEMA.remove_metadata()
    # The generated flows of the anomaly scans write the same columns and types.
    assert flows.SCHEMA.remove_metadata() == SCHEMA.remove_metadata()
    con = duckdb.connect()
    dates = con.execute(
        f"SELECT DISTINCT typeof(event_date), event_date = CAST(timezone('UTC', event_time) AS DATE) "
        f"FROM read_parquet('{store.events_glob}', hive_partitioning = true)"
    ).fetchall()
    assert dates == [("DATE", True)]
    # Rows within a file are sorted by code, for the min/max pruning of code lookups.
    for f in files:
        epcs = [r[0] for r in con.execute(f"SELECT epc FROM read_parquet('{f}')").fetchall()]
        assert epcs == sorted(epcs)


def test_reindex_rebuilds_the_same_indexes(tmp_path):
    store = load_sample(tmp_path)
    con = duckdb.connect()
    codes, hashes = _table(con, store.codes_glob), _table(con, store.hashes_glob)
    unit, case = "urn:yaojian:tracecode:81234560000000000001", "urn:yaojian:tracecode:81234570000000000001"
    assert len(hashes) == 13
    assert (unit, dt.date(2026, 3, 1), "B2026031", None) in codes  # commissioned with its lot
    assert (unit, dt.date(2026, 3, 1), None, case) in codes  # packed into the case
    lots = _table(con, store.lots_glob)
    assert ("B2026031", unit) in lots and ("B2026031", case) in lots  # the lot index: batch → its codes
    store.reindex()
    assert (_table(con, store.codes_glob), _table(con, store.hashes_glob)) == (codes, hashes)
    assert _table(con, store.lots_glob) == lots
    assert not any(store.staging.iterdir())


def test_an_ingest_cut_off_while_committing_is_finished_by_the_next_one(tmp_path, monkeypatch):
    import os

    import pytest

    store, real, calls = Store(tmp_path / "store"), os.replace, []

    def disk_full_at_the_third_rename(source, target):
        calls.append(source)
        if len(calls) == 3:
            raise OSError("No space left on device")
        return real(source, target)

    monkeypatch.setattr(os, "replace", disk_full_at_the_third_rename)
    with pytest.raises(OSError):
        ingest_file(DATA / "trace_dataset.csv", store, REGISTRY)
    monkeypatch.undo()
    # Two day files are in place, the hash index is not: the plan of the rest waits in the staging area.
    assert len(store.event_files()) == 2 and not store.hash_files()
    assert list(store.staging.glob("*/plan.json"))

    again = ingest_file(DATA / "trace_dataset.csv", store, REGISTRY)  # takes the lock: finishes the plan first
    assert (again.accepted, again.duplicate) == (0, 13) and not list(store.staging.glob("*/plan.json"))
    clean = load_sample(tmp_path / "clean")
    con = duckdb.connect()
    rows = "SELECT * EXCLUDE (ingest_id) FROM read_parquet('{}') ORDER BY ALL"
    stored = con.execute(rows.format(store.events_glob)).fetchall()
    assert stored == con.execute(rows.format(clean.events_glob)).fetchall()
