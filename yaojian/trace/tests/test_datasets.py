"""Enterprise trace data sets 追溯基本数据集 as CSV → the EPCIS event model, with row/column/reason errors."""

import pytest

from yaojian.trace.datasets import PARTY_URN, STEPS, parse_csv
from yaojian.trace.eventhash import event_hash

from .examples import DATA

REGISTRY = {"8123456": "小盒", "8123457": "箱"}
MAKER, WHOLESALER, PHARMACY, HOSPITAL = (
    PARTY_URN + c for c in ("91320106MA1X70015N", "91320102MA2A8002X5", "91320104MA3D90038P", "91320105MA4G100474")
)
UNIT = "urn:yaojian:tracecode:8123456000000000000"
CASE = "urn:yaojian:tracecode:81234570000000000001"
HEADER = "事件类型,追溯码,上级码,时间,企业统一社会信用代码,对方统一社会信用代码,批号,有效期,数量,拆零\n"


def load(text: str | bytes, registry=REGISTRY):
    return parse_csv(text, registry)


def test_every_chinese_step_maps_onto_epcis():
    result = load((DATA / "trace_dataset.csv").read_bytes())
    assert result.errors == []
    steps = [(e.event_type, e.biz_step, e.disposition, e.action) for e in result.events]
    assert steps == [
        ("ObjectEvent", "commissioning", "active", "ADD"),
        ("ObjectEvent", "commissioning", "active", "ADD"),
        ("AggregationEvent", "packing", "in_progress", "ADD"),
        ("ObjectEvent", "shipping", "in_transit", "OBSERVE"),
        ("ObjectEvent", "receiving", "in_progress", "OBSERVE"),
        ("ObjectEvent", "shipping", "in_transit", "OBSERVE"),
        ("ObjectEvent", "receiving", "in_progress", "OBSERVE"),
        ("ObjectEvent", "shipping", "in_transit", "OBSERVE"),
        ("ObjectEvent", "receiving", "in_progress", "OBSERVE"),
        ("ObjectEvent", "retail_selling", "retail_sold", "OBSERVE"),
        ("ObjectEvent", "dispensing", "partially_dispensed", "OBSERVE"),
        ("ObjectEvent", "receiving", "returned", "OBSERVE"),
        ("ObjectEvent", "destroying", "destroyed", "DELETE"),
    ]
    assert set(STEPS) == {"赋码", "包装关联", "出库", "入库", "零售", "发药", "退货", "销毁"}
    assert result.rows == list(range(2, 15))


def test_csv_fields_land_in_the_model():
    events = load((DATA / "trace_dataset.csv").read_bytes()).events
    commission, _, packing, ship, receive = events[:5]
    assert commission.epc_list == [UNIT + str(i) for i in range(1, 5)]
    assert commission.master_data("lotNumber") == "B2026031"
    assert commission.master_data("itemExpirationDate") == "2028-02-29"
    assert commission.event_time.isoformat() == "2026-03-01T09:00:00+08:00"
    assert commission.event_time_zone_offset == "+08:00"
    assert packing.parent_id == CASE and len(packing.child_epcs) == 4
    assert (ship.party("owning_party", "source"), ship.party("owning_party", "destination")) == (MAKER, WHOLESALER)
    assert (receive.party("owning_party", "source"), receive.biz_location) == (MAKER, WHOLESALER)
    sale, dispense, returned, destroyed = events[9:]
    assert sale.biz_location == PHARMACY and sale.epc_list == [UNIT + "1"]
    assert dispense.biz_location == HOSPITAL and str(dispense.units) == "2"
    assert returned.party("owning_party", "source") == PHARMACY
    assert destroyed.epc_list == [UNIT + "2"]


def test_events_from_csv_hash_and_flatten():
    events = load((DATA / "trace_dataset.csv").read_bytes()).events
    hashes = [event_hash(e) for e in events]
    assert len(set(hashes)) == len(hashes)
    assert hashes == [event_hash(e) for e in load((DATA / "trace_dataset.csv").read_bytes()).events]
    rows = [r for e, h in zip(events, hashes, strict=True) for r in e.epc_rows(h)]
    assert len(rows) == 4 + 1 + 5 + 1 + 1 + 2 + 2 + 1 + 1 + 1 + 1 + 1 + 1
    dispensing = next(r for r in rows if r["biz_step"] == "dispensing")
    assert dispensing["quantity"] == 2


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_encodings(encoding):
    text = (DATA / "trace_dataset.csv").read_text(encoding="utf-8")
    result = load(text.encode(encoding))
    assert len(result.events) == 13 and result.errors == []


def test_gs1_codes_and_offsets_accepted():
    codes = "(01)10614141073464(21)2017|urn:epc:id:sgtin:0614141.107346.2018"
    row = f"零售,{codes},,2026-03-10T16:05:12Z,91320104MA3D90038P\n"
    (event,) = load(HEADER + row).events
    assert event.epc_list == [
        "https://id.gs1.org/01/10614141073464/21/2017",
        "https://id.gs1.org/01/10614141073464/21/2018",
    ]
    assert event.event_time_zone_offset == "+00:00"


BAD_ROWS = [
    ("售出,81234560000000000001,,2026-03-10 16:00,91320104MA3D90038P", "事件类型", "未知事件类型 '售出'"),
    ("零售,8123456000000000001,,2026-03-10 16:00,91320104MA3D90038P", "追溯码", "应为 20 位，实际 19 位"),
    ("零售,89999990000000000001,,2026-03-10 16:00,91320104MA3D90038P", "追溯码", "未在产品库中登记"),
    ("零售,(01)10614141073465(21)1,,2026-03-10 16:00,91320104MA3D90038P", "追溯码", "GS1 校验位错误"),
    ("零售,81234560000000000001,,2026-13-10 16:00,91320104MA3D90038P", "时间", "不是有效日期时间"),
    ("零售,81234560000000000001,,昨天,91320104MA3D90038P", "时间", "格式应为"),
    ("零售,81234560000000000001,,2026-03-10 16:00,91320104MA3D90038X", "企业统一社会信用代码", "校验位错误"),
    ("出库,81234560000000000001,,2026-03-10 16:00,91320104MA3D90038P,", "对方统一社会信用代码", "必须填写对方单位"),
    ("包装关联,81234560000000000001,,2026-03-10 16:00,91320104MA3D90038P", "上级码", "必须填写上级码"),
    ("赋码,81234560000000000001,,2026-03-10 16:00,91320104MA3D90038P,,B1,2028-02-30", "有效期", "应为 YYYY-MM-DD"),
    ("发药,81234560000000000001,,2026-03-10 16:00,91320105MA4G100474,,,,-1", "数量", "应为正数"),
    ("零售,81234560000000000001;81234560000000000001,,2026-03-10 16:00,91320104MA3D90038P", "追溯码", "重复"),
    ("零售,,,2026-03-10 16:00,91320104MA3D90038P", "追溯码", "必填项为空"),
]


@pytest.mark.parametrize("row,column,words", BAD_ROWS)
def test_bad_rows_reported_with_row_column_reason(row, column, words):
    good = "零售,81234560000000000001,,2026-03-10 16:00,91320104MA3D90038P\n"
    result = load(HEADER + good + row + "\n" + good.replace("0001,", "0004,"))
    assert len(result.events) == 2 and result.rows == [2, 4]
    (error,) = result.errors
    assert (error.row, error.column) == (3, column) and words in error.reason, error


def test_header_problems():
    assert load("").errors[0].reason == "文件为空，缺少表头"
    (error,) = load("事件类型,追溯码\n零售,81234560000000000001\n").errors
    assert error.row == 1 and "时间" in error.reason and "企业统一社会信用代码" in error.reason


def test_english_aliases_and_blank_lines():
    text = "event,codes,time,enterprise\n\n零售,81234560000000000001,2026-03-10 16:00,91320104MA3D90038P\n"
    assert len(load(text).events) == 1
