"""Ingest 事件导入: idempotent, all or nothing, every EPCIS example, hostile input, bulk CSV = row-by-row CSV."""

import json

import duckdb
import pytest

from yaojian.trace import bulkcsv
from yaojian.trace.datasets import parse_csv
from yaojian.trace.epcis import MAX_DOCUMENT_BYTES, parse_document
from yaojian.trace.eventhash import event_hash
from yaojian.trace.ingest import connect, events_table, ingest_bytes, ingest_file, ingest_parquet
from yaojian.trace.store import Store

from .examples import DATA, REFUSED, example_paths, read_example
from .test_store import REGISTRY, load_sample

HEADER = "事件类型,追溯码,上级码,时间,企业统一社会信用代码,对方统一社会信用代码,批号,有效期,数量,拆零\n"
MAKER, SHOP = "91320106MA1X70015N", "91320104MA3D90038P"


def stored_rows(store: Store) -> int:
    if store.is_empty():
        return 0
    return duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{store.events_glob}')").fetchone()[0]


def test_same_file_twice_adds_nothing(tmp_path):
    store = load_sample(tmp_path)
    rows, files = stored_rows(store), store.event_files()
    again = ingest_file(DATA / "trace_dataset.csv", store, REGISTRY)
    assert (again.accepted, again.duplicate, again.refused, again.rows) == (0, 13, 0, 0)
    assert stored_rows(store) == rows and store.event_files() == files


def test_json_and_xml_of_the_same_events_are_duplicates(tmp_path):
    store = Store(tmp_path)
    first = ingest_file(DATA / "pharma_flow.jsonld", store)
    second = ingest_file(DATA / "pharma_flow.xml", store)
    assert first.accepted == 7
    assert second.accepted + second.duplicate == len(parse_document((DATA / "pharma_flow.xml").read_bytes()))
    assert second.duplicate >= 6


def test_repeated_row_within_a_file_is_one_event(tmp_path):
    row = f"零售,81234560000000000001,,2026-03-10 16:05:12,{SHOP},,,,,\n"
    report = ingest_bytes((HEADER + row + row).encode(), "x.csv", Store(tmp_path))
    assert (report.accepted, report.duplicate) == (1, 1)


@pytest.fixture(scope="module")
def example_store(tmp_path_factory):
    return Store(tmp_path_factory.mktemp("examples"))


@pytest.mark.parametrize("rel", example_paths() or ["(examples missing)"])
def test_every_example_document_is_ingested_or_refused_with_its_reason(rel, example_store):
    data = read_example(rel)
    before = stored_rows(example_store)
    report = ingest_bytes(data, rel, example_store)
    if rel in REFUSED:
        assert report.refused == 1 and REFUSED[rel] in report.reasons[0]
        assert stored_rows(example_store) == before
        return
    assert report.ok, report.reasons
    assert report.accepted + report.duplicate == len(parse_document(data))


@pytest.mark.parametrize(
    "data,name,words",
    [
        (b'{"type": "EPCISDocument", "epcisBody": {"eventList": [', "a.json", "JSON 格式错误"),
        (b"<epcis:EPCISDocument xmlns:epcis='urn:epcglobal:epcis:xsd:2'><EPCISBody>", "a.xml", "XML 格式错误"),
        (b"[" * 100 + b"]" * 100, "a.json", "JSON 嵌套过深"),
        (b" " * (MAX_DOCUMENT_BYTES + 1), "a.json", "超过上限"),
        (b"PAR1 not really parquet", "a.parquet", "不是可读的 Parquet 文件"),
        ((HEADER + f"售出,81234560000000000001,,2026-03-10 16:05:12,{SHOP},,,,,\n").encode(), "a.csv", "未知事件类型"),
    ],
)
def test_hostile_input_is_refused_and_stores_nothing(tmp_path, data, name, words):
    store = Store(tmp_path)
    report = ingest_bytes(data, name, store)
    assert report.refused and words in " ".join(report.reasons), report.reasons
    assert store.is_empty() and not store.hash_files()


def test_unknown_vocabulary_in_one_event_refuses_the_document(tmp_path):
    doc = json.loads((DATA / "pharma_flow.jsonld").read_text())
    doc["epcisBody"]["eventList"][3]["bizStep"] = "selling_to_patient"
    report = ingest_bytes(json.dumps(doc).encode(), "flow.jsonld", Store(tmp_path))
    assert report.refused and "第 4 个事件：未知的 bizStep 值 'selling_to_patient'" in report.reasons[0]
    assert Store(tmp_path).is_empty()


def test_csv_with_a_bad_row_is_refused_whole_with_row_and_column(tmp_path):
    good = f"零售,81234560000000000001,,2026-03-10 16:05:12,{SHOP},,,,,\n"
    bad = "零售,81234560000000000002,,2026-03-10 16:05:12,91320104MA3D90038X,,,,,\n"
    report = ingest_bytes((HEADER + good + bad).encode(), "a.csv", Store(tmp_path))
    assert report.refused and report.reasons[0].startswith("第 3 行 企业统一社会信用代码：统一社会信用代码校验位错误")
    assert Store(tmp_path).is_empty()


def _both_paths(data: bytes, registry=None):
    con = connect()
    bulk = bulkcsv.load(con, data, "t", registry)
    assert bulk is not None, "the file should take the bulk path"
    fast = sorted(con.execute("SELECT * FROM bulk_rows").fetchall(), key=str)
    result = parse_csv(data, registry)
    con.register("slow", events_table(result.events, [event_hash(e) for e in result.events], "t"))
    slow = sorted(con.execute("SELECT * FROM slow").fetchall(), key=str)
    return fast, slow


def test_bulk_csv_path_hashes_and_flattens_like_the_event_model():
    fast, slow = _both_paths((DATA / "trace_dataset.csv").read_bytes(), REGISTRY)
    assert fast == slow and len(fast) == 22
    # Variants: numeric lot (canonical number), compact expiry, a large whole quantity, several codes sorted, and
    # the optional parts together.
    text = HEADER + (
        f"赋码,81234560000000000009;81234560000000000008,,2026-05-01 00:30:00,{MAKER},,20260501,20280430,,\n"
        f"发药,81234560000000000009,,2026-05-02 23:59:59,{SHOP},,,,120,Y\n"
        f"出库,81234560000000000008,,2026-05-02 08:00:00,{MAKER},{SHOP},,,,\n"
        # Optional parts together (their order in the pre-hash text): destination + quantity, lot/expiry +
        # quantity, source + quantity.
        f"出库,81234560000000000007,,2026-05-02 09:00:00,{MAKER},{SHOP},,,5,\n"
        f"赋码,81234560000000000006,,2026-05-01 01:00:00,{MAKER},,B7,2028-04-30,3,\n"
        f"入库,81234560000000000007,,2026-05-03 09:00:00,{SHOP},{MAKER},,,2,\n"
    )
    fast, slow = _both_paths(text.encode())
    assert fast == slow


@pytest.mark.parametrize(
    "row",
    [
        f"零售,(01)06901234123456(21)A1,,2026-03-10 16:05:12,{SHOP},,,,,",  # a GS1 code
        f"零售,81234560000000000001,,2026/3/10 16:05,{SHOP},,,,,",  # another time form
        f"赋码,81234560000000000001,,2026-03-10 16:05:12,{MAKER},,0012,,,",  # a lot hashed as the number 12
    ],
)
def test_rows_of_other_shapes_take_the_event_path(tmp_path, row):
    data = (HEADER + row + "\n").encode()
    assert bulkcsv.load(connect(), data, "t") is None
    report = ingest_bytes(data, "a.csv", Store(tmp_path))
    assert report.accepted == 1 and report.ok


def test_parquet_in_the_layout_round_trips(tmp_path):
    source = load_sample(tmp_path / "a")
    copy = Store(tmp_path / "b")
    report = ingest_parquet(source.event_files(), copy)
    assert (report.accepted, report.rows) == (13, stored_rows(source))
    assert ingest_parquet(source.event_files(), copy).duplicate == 13


def test_parquet_missing_columns_is_refused(tmp_path):
    con = duckdb.connect()
    path = tmp_path / "x.parquet"
    con.execute(f"COPY (SELECT 'x' AS epc) TO '{path}' (FORMAT parquet)")
    report = ingest_file(path, Store(tmp_path / "s"))
    assert report.refused and "缺少必需列 event_hash、event_type、event_time、role" in report.reasons[0]
