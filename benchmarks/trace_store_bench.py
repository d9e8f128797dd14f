"""Trace store benchmark 追溯事件库基准: ingest rates (CSV bulk path, EPCIS JSON, Parquet) and query latency.

    .venv/bin/python benchmarks/trace_store_bench.py --events 1000000 [--json-events 20000] [--engine duckdb]

Writes a synthetic trace data set CSV (units commissioned in batches of 200, packed 20 to a case, cases shipped,
received, units sold) into a temporary directory, ingests it (first time, then again: all duplicates), ingests an
EPCIS 2.0 JSON document and the store's own Parquet into a second store, then times the code history, public code
query and recall reach; last, the same CSV sent as ``--parts`` uploads into a third store, recall reach before and
after :meth:`Store.compact`. Figures are printed; nothing is asserted.
"""

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaojian.settings")

import django  # noqa: E402

django.setup()

from yaojian.trace.ingest import ingest_file, ingest_parquet  # noqa: E402
from yaojian.trace.queries import Queries  # noqa: E402
from yaojian.trace.store import Store  # noqa: E402

MAKER, SHOP = "91320106MA1X70015N", "91320104MA3D90038P"
WHOLESALER = "91320102MA2A8002X5"
UNITS_PER_CASE = 20


def synthetic_csv(path: Path, events: int, seed: int = 1, days: int = 365) -> int:
    """About ``events`` rows; per case of 20 units: 21 赋码, 包装关联, 出库, 入库 and 20 零售 (44 rows). Cases are
    commissioned over ``days`` days (365: a year's export; 1: a day's upload, whose events still span four days)."""
    rng = np.random.default_rng(seed)
    cases = max(1, events // (2 * UNITS_PER_CASE + 4))
    t0 = dt.datetime(2025, 1, 1, 8)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("事件类型,追溯码,上级码,时间,企业统一社会信用代码,对方统一社会信用代码,批号,有效期,数量,拆零\n")
        rows = 0
        for c in range(cases):
            lot = f"B{c // 10:07d}"
            day = t0 + dt.timedelta(days=int(c * days / cases), seconds=int(rng.integers(0, 3600)))
            units = [f"8123456{c * UNITS_PER_CASE + i:013d}" for i in range(UNITS_PER_CASE)]
            case = f"8123457{c:013d}"
            t = day.strftime("%Y-%m-%d %H:%M:%S")
            lines = [f"赋码,{u},,{t},{MAKER},,{lot},2027-12-31,," for u in units]
            lines.append(f"赋码,{case},,{t},{MAKER},,{lot},2027-12-31,,")
            t1 = (day + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
            lines.append(f"包装关联,{';'.join(units)},{case},{t1},{MAKER},,,,,")
            t2 = (day + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
            lines.append(f"出库,{case},,{t2},{MAKER},{SHOP},,,,")
            t3 = (day + dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
            lines.append(f"入库,{case},,{t3},{SHOP},{MAKER},,,,")
            for i, u in enumerate(units):
                ts = (day + dt.timedelta(days=3, minutes=i)).strftime("%Y-%m-%d %H:%M:%S")
                lines.append(f"零售,{u},,{ts},{SHOP},,,,,")
            fh.write("\n".join(lines) + "\n")
            rows += len(lines)
    return rows


def epcis_json(path: Path, events: int) -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    body = [
        {
            "type": "ObjectEvent",
            "eventTime": (t0 + dt.timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
            "eventTimeZoneOffset": "+08:00",
            "epcList": [f"urn:yaojian:tracecode:8765432{i:013d}"],
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "readPoint": {"id": "urn:epc:id:sgln:6905678.00001.0"},
            "sourceList": [{"type": "owning_party", "source": f"urn:yaojian:uscc:{WHOLESALER}"}],
            "destinationList": [{"type": "owning_party", "destination": f"urn:yaojian:uscc:{SHOP}"}],
        }
        for i in range(events)
    ]
    doc = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-01-01T00:00:00Z",
        "epcisBody": {"eventList": body},
    }
    path.write_text(json.dumps(doc))


def timed(fn, repeat: int = 5) -> float:
    fn()  # warm (file system cache, first connection)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--json-events", type=int, default=20_000)
    parser.add_argument("--engine", default="duckdb")
    parser.add_argument("--days", type=int, default=365, help="days over which the CSV's cases are commissioned")
    parser.add_argument("--parts", type=int, default=10, help="uploads the CSV is split into for the compaction test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_path = tmp / "events.csv"
        rows = synthetic_csv(csv_path, args.events, days=args.days)
        store = Store(tmp / "store")
        first = ingest_file(csv_path, store)
        print(
            f"CSV 批量导入: {first.accepted:,} 事件 {first.rows:,} 行, {first.seconds:.2f} s, "
            f"{first.accepted / first.seconds:,.0f} 事件/秒 ({rows:,} CSV 行)"
        )
        again = ingest_file(csv_path, store)
        print(
            f"CSV 重复导入: {again.duplicate:,} 重复, {again.accepted} 新增, {again.seconds:.2f} s, "
            f"{again.duplicate / again.seconds:,.0f} 事件/秒"
        )
        json_path = tmp / "events.json"
        epcis_json(json_path, args.json_events)
        report = ingest_file(json_path, store)
        print(
            f"EPCIS JSON 导入: {report.accepted:,} 事件, {report.seconds:.2f} s, "
            f"{report.accepted / report.seconds:,.0f} 事件/秒"
        )
        copy = Store(tmp / "copy")
        started = time.perf_counter()
        accepted = ingest_parquet(store.event_files(), copy).accepted
        seconds = time.perf_counter() - started
        print(f"Parquet 导入: {accepted:,} 事件, {seconds:.2f} s, {accepted / seconds:,.0f} 事件/秒")
        q = Queries(store.root, args.engine)
        unit = "urn:yaojian:tracecode:8123456" + f"{(rows // 63 // 2) * UNITS_PER_CASE + 3:013d}"
        lot = f"B{rows // 63 // 20:07d}"
        assert q.history(unit) and q.recall(lot)
        print(f"追溯码历史 ({args.engine}): {timed(lambda: q.history(unit)):.1f} ms 中位数")
        print(f"公众查询 ({args.engine}): {timed(lambda: q.public(unit)):.1f} ms 中位数")
        print(f"召回范围 ({args.engine}, 批号 {lot}): {timed(lambda: q.recall(lot)):.1f} ms 中位数")
        if args.parts > 1:
            compaction(tmp, csv_path, args.parts, lot, args.engine)


def compaction(tmp: Path, csv_path: Path, parts: int, lot: str, engine: str) -> None:
    """The same CSV as ``parts`` uploads (each day gets a file from each), recall reach, compaction, recall again."""
    header, *lines = csv_path.read_text(encoding="utf-8").splitlines()
    store = Store(tmp / "parts")
    for i in range(parts):  # every parts-th row: each upload has rows of every day, as enterprises' daily uploads do
        chunk = tmp / f"part-{i}.csv"
        chunk.write_text("\n".join([header, *lines[i::parts], ""]), encoding="utf-8")
        ingest_file(chunk, store)
    q = Queries(store.root, engine)
    files = len(store.event_files())
    before = timed(lambda: q.recall(lot))
    report = store.compact()
    after = timed(lambda: q.recall(lot))
    print(
        f"合并小文件: {parts} 次上传的 {files:,} 个事件文件 → {len(store.event_files()):,} 个, {report.seconds:.2f} s; "
        f"召回范围 {before:.1f} → {after:.1f} ms 中位数"
    )


if __name__ == "__main__":
    main()
