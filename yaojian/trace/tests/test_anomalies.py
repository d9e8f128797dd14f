"""Anomaly scans 追溯线索扫描 on small hand-built stores: each kind found when planted, silent when clean."""

import datetime as dt
import itertools
import json

import pyarrow as pa
import pytest

from yaojian.core.identifiers import build_uscc
from yaojian.trace import anomalies
from yaojian.trace.flows import SCHEMA, write_events

P = "urn:yaojian:uscc:"
MAKER = P + build_uscc("110105", "10000001")  # 北京
WHOLESALER = P + build_uscc("320106", "10000002")  # 南京
PHARMACY = P + build_uscc("320102", "10000003")
OTHER_PHARMACY = P + build_uscc("320104", "10000004")
OTC_PHARMACY = P + build_uscc("320111", "10000005")  # licensed for OTC drugs only
FAR = P + build_uscc("650102", "10000006")  # 乌鲁木齐, about 3,000 km from 南京
DRUG, SPLIT, RX, CTRL = "8012345", "8023456", "8034567", "8045678"
CASE_OF = {DRUG: "8312345", SPLIT: "8323456", RX: "8334567", CTRL: "8345678"}

PRODUCTS = pa.table(
    {
        "code": [DRUG, SPLIT, RX, CTRL, *CASE_OF.values()],
        "product": ["普通药", "拆零药", "处方药", "精神药品"] * 2,
        "level": [0, 0, 0, 0, 1, 1, 1, 1],
        "rx": [False, False, True, True] * 2,
        "controlled": [False, False, False, True] * 2,
        "units": [1, 3, 1, 1, None, None, None, None],
    }
)
LICENCES = [
    {"party": p, "drug_ok": True, "rx_ok": True, "controlled_ok": p in (MAKER, WHOLESALER)}
    for p in (MAKER, WHOLESALER, PHARMACY, OTHER_PHARMACY)
] + [{"party": OTC_PHARMACY, "drug_ok": True, "rx_ok": False, "controlled_ok": False}]

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
_hashes = itertools.count()


def code(product: str, serial: int) -> str:
    return f"urn:yaojian:tracecode:{product}{serial:013d}"


def event(step: str, at: dt.datetime, epcs, *, where: str, role="epc", **fields) -> list[dict]:
    """Rows of one event (one per EPC), in the store's layout."""
    action = {"commissioning": "ADD", "packing": "ADD", "destroying": "DELETE"}.get(step, "OBSERVE")
    base = {name: None for name in SCHEMA.names} | {
        "event_hash": f"h{next(_hashes):05d}",
        "event_type": "AggregationEvent" if step == "packing" else "ObjectEvent",
        "event_time": at.astimezone(dt.UTC),
        "tz_offset": "+08:00",
        "action": action,
        "biz_step": step,
        "biz_location": where,
        "ingest_id": "test",
    }
    return [base | {"role": role, "epc": e} | fields for e in ([epcs] if isinstance(epcs, str) else epcs)]


def flow(product: str = DRUG, serial: int = 1, to: str = PHARMACY, expiry: str = "2027-12-31") -> tuple[list, dict]:
    """A clean flow: two packs made in 北京, cased, shipped to the wholesaler, on to ``to``, one sold there."""
    units = [code(product, serial), code(product, serial + 1)]
    case = code(CASE_OF[product], serial)
    rows = event("commissioning", T0, units, where=MAKER, expiry=expiry, lot="L1")
    packing = event("packing", T0 + dt.timedelta(hours=1), units, where=MAKER, role="child", parent_id=case)
    rows += packing + [packing[0] | {"role": "parent", "epc": case}]
    for start, source, dest in ((2, MAKER, WHOLESALER), (6, WHOLESALER, to)):
        day = T0 + dt.timedelta(days=start)
        rows += event("shipping", day, case, where=source, source_owner=source, destination_owner=dest)
        arrived = day + dt.timedelta(days=1)
        rows += event("receiving", arrived, case, where=dest, source_owner=source, destination_owner=dest)
    rows += event("retail_selling", T0 + dt.timedelta(days=10), units[0], where=to)
    return rows, {"units": units, "case": case}


def scan(tmp_path, rows, engine="duckdb", **kwargs) -> pa.Table:
    write_events(pa.Table.from_pylist(rows, schema=SCHEMA), tmp_path, "t")
    return anomalies.run_scan(tmp_path, engine=engine, products=PRODUCTS, licences=LICENCES, **kwargs)


def found(leads: pa.Table) -> set[tuple[str, str, str]]:
    return set(zip(leads["kind"].to_pylist(), leads["code"].to_pylist(), leads["party"].to_pylist(), strict=True))


def test_clean_flows_raise_no_lead(tmp_path):
    rows = flow()[0] + flow(SPLIT, 10)[0] + flow(RX, 20)[0]
    assert scan(tmp_path, rows).num_rows == 0


def test_no_store_no_leads(tmp_path):
    assert anomalies.run_scan(tmp_path, products=PRODUCTS, licences=LICENCES).num_rows == 0


def test_same_pack_sold_twice(tmp_path):
    rows, f = flow()
    rows += event("retail_selling", T0 + dt.timedelta(days=12), f["units"][0], where=PHARMACY)
    leads = scan(tmp_path, rows)
    assert found(leads) == {("duplicate_sale", f["units"][0], PHARMACY)}
    evidence = json.loads(leads["evidence"][0].as_py())
    assert evidence["scans"] == 2 and len(evidence["events"]) == 2
    assert evidence["events"][0]["time"].startswith("2025-03-13T09:00") and evidence["events"][0]["place"] == "江苏省"


@pytest.mark.parametrize(("scans", "flagged"), [(3, False), (4, True)])
def test_split_pack_may_be_scanned_up_to_its_units(tmp_path, scans, flagged):
    """拆零: a pack of 3 split units may be sold in 3 scans of one unit each, not in 4."""
    rows, f = flow(SPLIT)
    rows = [r for r in rows if r["biz_step"] != "retail_selling"]
    for i in range(scans):
        at = T0 + dt.timedelta(days=10, hours=i)
        rows += event("dispensing", at, f["units"][0], where=PHARMACY, quantity=1.0, disposition="partially_dispensed")
    assert found(scan(tmp_path, rows)) == ({("duplicate_sale", f["units"][0], PHARMACY)} if flagged else set())


def test_split_units_adding_up_past_the_pack_and_whole_after_split(tmp_path):
    rows, f = flow(SPLIT)
    rows = [r for r in rows if r["biz_step"] != "retail_selling"]
    rows += event("retail_selling", T0 + dt.timedelta(days=10), f["units"][0], where=PHARMACY, quantity=2.0)
    rows += event("retail_selling", T0 + dt.timedelta(days=11), f["units"][0], where=PHARMACY, quantity=2.0)
    rows += event("retail_selling", T0 + dt.timedelta(days=10), f["units"][1], where=PHARMACY, quantity=1.0)
    rows += event("retail_selling", T0 + dt.timedelta(days=11), f["units"][1], where=PHARMACY)  # the whole pack
    assert found(scan(tmp_path, rows)) == {("duplicate_sale", u, PHARMACY) for u in f["units"]}


def test_sold_by_a_party_that_never_received_it(tmp_path):
    rows, f = flow()
    rows += event("retail_selling", T0 + dt.timedelta(days=11), f["units"][1], where=OTHER_PHARMACY)
    assert found(scan(tmp_path, rows)) == {("unreceived_sale", f["units"][1], OTHER_PHARMACY)}


def test_receipt_of_the_pallet_covers_its_packs(tmp_path):
    """Aggregation is resolved two levels up: pack → case → pallet."""
    rows, f = flow()
    pallet = "urn:yaojian:tracecode:8612345" + "9" * 13
    rows = [r for r in rows if not (r["biz_step"] in ("shipping", "receiving") and r["destination_owner"] == PHARMACY)]
    rows += event("packing", T0 + dt.timedelta(hours=2), f["case"], where=MAKER, role="child", parent_id=pallet)
    rows += event("receiving", T0 + dt.timedelta(days=7), pallet, where=PHARMACY, destination_owner=PHARMACY)
    assert scan(tmp_path, rows).num_rows == 0


@pytest.mark.parametrize(("product", "reason"), [(RX, "处方药"), (CTRL, "精神药品")])
def test_shipped_to_a_party_whose_licence_does_not_cover_it(tmp_path, product, reason):
    rows, f = flow(product, to=OTC_PHARMACY)
    leads = scan(tmp_path, rows)
    assert found(leads) == {("unlicensed_receiver", f["case"], OTC_PHARMACY)}
    assert reason in json.loads(leads["evidence"][0].as_py())["reason"]


def test_shipping_to_an_unknown_party_is_not_judged(tmp_path):
    unknown = P + build_uscc("320105", "10000009")
    rows, _ = flow(RX, to=unknown)
    assert scan(tmp_path, rows).num_rows == 0


@pytest.mark.parametrize(("expiry", "flagged"), [("2025-03-13", False), ("2025-03-12", True)])
def test_sale_after_expiry_in_china_time(tmp_path, expiry, flagged):
    """The sale is at 2025-03-13 09:00 China time (01:00 UTC): on the expiry day is fine, the day after is not."""
    rows, f = flow(expiry=expiry)
    assert found(scan(tmp_path, rows)) == ({("expired_sale", f["units"][0], PHARMACY)} if flagged else set())


def test_destroyed_code_reappearing(tmp_path):
    rows, f = flow()
    rows += event("destroying", T0 + dt.timedelta(days=10), f["units"][1], where=PHARMACY, disposition="destroyed")
    rows += event("destroying", T0 + dt.timedelta(days=11), f["units"][1], where=PHARMACY)  # a second record only
    assert scan(tmp_path, rows).num_rows == 0
    rows += event("retail_selling", T0 + dt.timedelta(days=12), f["units"][1], where=PHARMACY)
    leads = scan(tmp_path, rows)
    assert found(leads) == {("destroyed_reappears", f["units"][1], PHARMACY)}
    assert json.loads(leads["evidence"][0].as_py())["destroyed"]["time"].startswith("2025-03-13")


@pytest.mark.parametrize(("hours", "flagged"), [(1, True), (72, False)])
def test_impossible_transit(tmp_path, hours, flagged):
    """南京 → 乌鲁木齐 (≈ 3,000 km) in one hour is impossible; in the days after the pharmacy's receipt it is not."""
    rows, f = flow()
    shipped = T0 + dt.timedelta(days=6)
    rows += event("receiving", shipped + dt.timedelta(hours=hours), f["case"], where=FAR, destination_owner=FAR)
    rows += event("retail_selling", shipped + dt.timedelta(days=3), f["units"][1], where=PHARMACY)
    leads = scan(tmp_path, rows)
    assert found(leads) == ({("impossible_transit", f["case"], FAR)} if flagged else set())
    if flagged:
        evidence = json.loads(leads["evidence"][0].as_py())
        assert evidence["provinces"] == ["江苏省", "新疆维吾尔自治区"] and 2900 < evidence["km"] < 3100


def test_back_and_forth_between_provinces_is_walked_scan_by_scan(tmp_path):
    """A code that returns to a province (overlapping spans) is judged leg by leg: slow legs pass, a fast one not."""
    case = code(CASE_OF[DRUG], 77)
    rows = event("receiving", T0, case, where=WHOLESALER, destination_owner=WHOLESALER)
    rows += event("receiving", T0 + dt.timedelta(days=2), case, where=FAR, destination_owner=FAR)
    rows += event("receiving", T0 + dt.timedelta(days=4), case, where=WHOLESALER, destination_owner=WHOLESALER)
    assert scan(tmp_path, rows).num_rows == 0
    rows += event("receiving", T0 + dt.timedelta(days=4, hours=2), case, where=FAR, destination_owner=FAR)
    assert found(scan(tmp_path, rows)) == {("impossible_transit", case, FAR)}


def _weekly_sales(party: str, weeks: range, per_week: int, serial: int) -> list:
    rows = []
    for w in weeks:
        for i in range(per_week):
            at = T0 + dt.timedelta(weeks=w, hours=i)
            rows += event("retail_selling", at, code(DRUG, serial + w * 1000 + i), where=party)
    return rows


def test_unusual_volume_against_own_weeks_and_peers(tmp_path):
    peers = [P + build_uscc("320106", f"2000000{i}") for i in range(5)]
    rows = [r for i, p in enumerate(peers) for r in _weekly_sales(p, range(6), 2, 10**6 * (i + 1))]
    rows += _weekly_sales(PHARMACY, range(5), 3, 10**8)
    assert scan(tmp_path, rows, kinds=("unusual_volume",)).num_rows == 0
    rows += _weekly_sales(PHARMACY, range(5, 6), 40, 2 * 10**8)
    leads = scan(tmp_path, rows, kinds=("unusual_volume",))
    assert found(leads) == {("unusual_volume", DRUG, PHARMACY)}
    evidence = json.loads(leads["evidence"][0].as_py())
    assert evidence["packs"] == 40 and evidence["baseline_median"] == 3 and evidence["robust_z"] >= 5


def test_a_large_seller_is_not_unusual_for_being_large(tmp_path):
    peers = [P + build_uscc("320106", f"2000000{i}") for i in range(5)]
    rows = [r for i, p in enumerate(peers) for r in _weekly_sales(p, range(6), 2, 10**6 * (i + 1))]
    rows += _weekly_sales(PHARMACY, range(6), 40, 10**8)  # always 40 a week: its own norm
    assert scan(tmp_path, rows, kinds=("unusual_volume",)).num_rows == 0


def test_as_of_leaves_later_events_out(tmp_path):
    rows, f = flow()
    rows += event("retail_selling", T0 + dt.timedelta(days=12), f["units"][0], where=PHARMACY)
    assert scan(tmp_path, rows, as_of=T0 + dt.timedelta(days=11)).num_rows == 0


def test_keys_are_stable_and_distinct():
    assert anomalies.lead_key("duplicate_sale", "c", "p") == anomalies.lead_key("duplicate_sale", "c", "p")
    assert anomalies.lead_key("duplicate_sale", "c", "p") != anomalies.lead_key("expired_sale", "c", "p")


def test_distances_between_capitals():
    assert anomalies.province_distance_km("11", "31") == pytest.approx(1068, abs=15)  # 北京–上海
    assert anomalies.province_distance_km("32", "32") == 0


def test_hash_collisions_add_no_transit_lead(tmp_path, monkeypatch):
    """The first transit pass groups codes by a 64-bit hash; even if every code collided, only true legs remain."""
    original = anomalies.DuckDBEngine.__init__

    def colliding(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.con.execute("CREATE OR REPLACE MACRO xxhash64(x) AS 42")

    monkeypatch.setattr(anomalies.DuckDBEngine, "__init__", colliding)
    # Two codes, each seen once: merged by the hash they would look like one code moving 3,000 km in an hour.
    rows = event("receiving", T0, code(DRUG, 501), where=FAR, destination_owner=FAR)
    rows += event("receiving", T0 + dt.timedelta(hours=1), code(DRUG, 502), where=WHOLESALER)
    assert scan(tmp_path / "a", rows).num_rows == 0
    rows, f = flow()
    rows += event("receiving", T0 + dt.timedelta(days=6, hours=1), f["case"], where=FAR, destination_owner=FAR)
    assert found(scan(tmp_path / "b", rows)) == {("impossible_transit", f["case"], FAR)}
