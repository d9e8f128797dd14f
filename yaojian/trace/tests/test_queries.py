"""Trace queries on DuckDB: history through aggregation, public query, recall reach, flows, stock."""

import shutil

import pytest

from yaojian.trace.ingest import ingest_bytes
from yaojian.trace.queries import Queries, literal
from yaojian.trace.store import Store

from .test_store import load_sample

U = "urn:yaojian:tracecode:8123456000000000000"  # + 1…4, the four units of the case
CASE = "urn:yaojian:tracecode:81234570000000000001"
P = "urn:yaojian:uscc:"
MAKER, WHOLESALER, PHARMACY, HOSPITAL = (
    P + c for c in ("91320106MA1X70015N", "91320102MA2A8002X5", "91320104MA3D90038P", "91320105MA4G100474")
)
HEADER = "事件类型,追溯码,上级码,时间,企业统一社会信用代码,对方统一社会信用代码,批号,有效期,数量,拆零\n"


@pytest.fixture
def queries(tmp_path):
    load_sample(tmp_path)
    return Queries(tmp_path, "duckdb")


def test_history_of_a_unit_includes_its_case_after_packing(queries):
    rows = queries.history(U + "4")
    steps = [(r["biz_step"], r["role"], r["via"]) for r in rows]
    assert steps == [
        ("commissioning", "epc", None),
        ("packing", "child", None),
        ("packing", "parent", CASE),
        ("shipping", "epc", CASE),
        ("receiving", "epc", CASE),
    ]
    assert rows[3]["destination_owner"] == WHOLESALER
    # Unit 1 left the case at its own shipment: its history goes on by itself, not with the case.
    tail = [(r["biz_step"], r["via"]) for r in queries.history(U + "1")][-3:]
    assert tail == [("shipping", None), ("receiving", None), ("retail_selling", None)]


def test_public_query_counts_sales(queries):
    sold = queries.public(U + "1")
    assert (sold["lot"], sold["expiry"], sold["sales"]) == ("B2026031", "2028-02-29", 1)
    assert queries.public(U + "4")["sales"] == 0
    assert queries.public("urn:yaojian:tracecode:89999990000000000001") is None


def test_recall_reach_resolves_aggregation(queries):
    reach = {(r["holder"], r["state"]): r["units"] for r in queries.recall("B2026031")}
    assert reach == {
        (WHOLESALER, "held"): 1,  # unit 4, still in the case the wholesaler received
        (WHOLESALER, "destroyed"): 1,  # unit 2, returned by the pharmacy and destroyed
        (PHARMACY, "sold"): 1,
        (HOSPITAL, "partial"): 1,  # split-pack dispensing: the rest of the pack is still there
    }
    assert queries.recall("B2026031", product="8123456") and queries.recall("B2026031", product="8999999") == []
    assert queries.recall("NOPE") == []


def test_case_shipped_on_carries_its_units(tmp_path, queries):
    # The wholesaler ships the (now partly empty) case on: unit 4 goes with it, units taken out earlier do not.
    row = "出库,81234570000000000001,,2026-04-05 10:00:00,91320102MA2A8002X5,91320104MA3D90038P,,,,\n"
    assert ingest_bytes((HEADER + row).encode(), "more.csv", Store(queries.root)).accepted == 1
    reach = {(r["holder"], r["state"]): r["units"] for r in queries.recall("B2026031")}
    assert reach[(PHARMACY, "in_transit")] == 1 and (WHOLESALER, "held") not in reach


def test_flows_and_stock(queries):
    flows = {(r["source"], r["target"]): r["units"] for r in queries.flows("B2026031")}
    assert flows[(MAKER, WHOLESALER)] == 4
    assert flows[(WHOLESALER, PHARMACY)] == 2 and flows[(PHARMACY, "@sold")] == 1
    stock = queries.stock(WHOLESALER)
    assert [(r["product"], r["lot"], r["state"], r["units"]) for r in stock] == [("8123456", "B2026031", "held", 1)]


def test_answers_do_not_depend_on_the_indexes(queries):
    # A store from before the lot index, one without any index, and one reindexed answer alike.
    store = Store(queries.root)

    def answers():
        return queries.recall("B2026031"), queries.flows("B2026031"), queries.history(U + "4"), queries.public(U + "1")

    indexed = answers()
    shutil.rmtree(store.lots)
    assert answers() == indexed
    shutil.rmtree(store.codes)
    assert answers() == indexed
    store.reindex()
    assert store.lot_files() and store.code_files() and answers() == indexed


def test_empty_store_answers_nothing(tmp_path):
    q = Queries(tmp_path, "duckdb")
    assert (q.history(U + "1"), q.public(U + "1"), q.recall("B"), q.stock(MAKER)) == ([], None, [], [])


@pytest.mark.parametrize("value", ["x' OR '1'='1", "a b", "", "码"])
def test_query_values_are_refused_outside_uri_characters(value):
    with pytest.raises(ValueError):
        literal(value)


def test_a_batch_case_holding_other_batches_units_is_not_a_unit(tmp_path):
    # Case 9 is commissioned with lot B2 but packs two units of lot B1: B2 has no units to recall, B1 has two.
    rows = (
        "赋码,81234560000000000091;81234560000000000092,,2026-03-01 08:00:00,91320106MA1X70015N,,B1,2028-02-29,,\n"
        "赋码,81234570000000000009,,2026-03-01 08:00:00,91320106MA1X70015N,,B2,2028-02-29,,\n"
        "包装关联,81234560000000000091;81234560000000000092,81234570000000000009,2026-03-01 09:00:00,"
        "91320106MA1X70015N,,,,,\n"
    )
    assert ingest_bytes((HEADER + rows).encode(), "mixed.csv", Store(tmp_path)).accepted == 3
    queries = Queries(tmp_path, "duckdb")
    assert queries.recall("B2") == []
    assert [(r["holder"], r["units"]) for r in queries.recall("B1")] == [(MAKER, 2)]
