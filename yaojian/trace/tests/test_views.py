"""Trace pages: jurisdiction rule, recall reach with the recall notice list, flows, stock, upload."""

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from yaojian.core.models import AuditRecord
from yaojian.registry.tests.packages import register_levels
from yaojian.trace.ingest import ingest_bytes
from yaojian.trace.store import Store

HEADER = "事件类型,追溯码,上级码,时间,企业统一社会信用代码,对方统一社会信用代码,批号,有效期,数量,拆零\n"


def flow_csv(world) -> tuple[bytes, list[str]]:
    """gulou's drug, lot B1001: made in 鼓楼, two packs shipped to 玄武, sold there (pack 1 twice), one kept in 梁溪."""
    maker, seller, keeper = (world.enterprises[k].credit_code for k in ("gulou", "xuanwu", "liangxi"))
    pid = register_levels(world.products["gulou"])[0]
    units = [f"{pid}{i:013d}" for i in (1, 2, 3)]
    rows = [
        f"赋码,{';'.join(units)},,2026-03-01 09:00:00,{maker},,B1001,2028-02-29,,",
        f"出库,{units[0]};{units[1]},,2026-03-02 09:00:00,{maker},{seller},,,,",
        f"入库,{units[0]};{units[1]},,2026-03-03 09:00:00,{seller},{maker},,,,",
        f"零售,{units[0]},,2026-03-04 10:00:00,{seller},,,,,",
        f"零售,{units[0]},,2026-03-05 10:00:00,{seller},,,,,",
        f"出库,{units[2]},,2026-03-02 10:00:00,{maker},{keeper},,,,",
        f"入库,{units[2]},,2026-03-03 10:00:00,{keeper},{maker},,,,",
    ]
    return (HEADER + "\n".join(rows) + "\n").encode(), ["urn:yaojian:tracecode:" + u for u in units]


@pytest.fixture
def trace(world, settings, tmp_path):
    settings.YAOJIAN_TRACE_DIR = tmp_path
    data, units = flow_csv(world)
    assert ingest_bytes(data, "flow.csv", Store(tmp_path)).accepted == 7
    return units


def client(world, role) -> Client:
    c = Client()
    c.force_login(world.users[role])
    return c


def test_code_history_follows_the_jurisdiction_rule(world, trace):
    code = trace[0][-20:]
    page = client(world, "admin").get("/trace/code/", {"code": code}).content.decode()
    assert page.count("<tr>") == 1 + 5 and "xuanwu测试药业有限公司" in page
    # 鼓楼 sees the events where its manufacturer is a party (commissioning, shipping, receiving from it), not the
    # two sales in 玄武, which are counted.
    page = client(world, "district").get("/trace/code/", {"code": code}).content.decode()
    assert page.count("<tr>") == 1 + 3 and "另有 2 个事件" in page and "零售" not in page
    assert "辖区外单位" in page and "xuanwu" not in page


def test_recall_reach_and_notice_list(world, trace):
    admin = client(world, "admin")
    page = admin.get("/trace/recall/", {"lot": "B1001"}).content.decode()
    assert "现持有 2 件" in page and "xuanwu测试药业有限公司" in page and "liangxi测试药业有限公司" in page
    response = admin.get("/trace/recall/", {"lot": "B1001", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("序号", "持有单位", "统一社会信用代码", "状态", "数量（最小包装）")
    assert {(r[1], r[4]) for r in rows[1:]} == {("xuanwu测试药业有限公司", 1), ("liangxi测试药业有限公司", 1)}
    # 南京市 (鼓楼 + 玄武) sees the 玄武 holder by name and 梁溪 (无锡) only as a count.
    page = client(world, "city").get("/trace/recall/", {"lot": "B1001"}).content.decode()
    assert "xuanwu测试药业有限公司" in page and "liangxi" not in page and "辖区外单位：在库 1 件" in page


def test_flows_stock_and_refusals(world, trace):
    admin = client(world, "admin")
    page = admin.get("/trace/flows/", {"lot": "B1001"}).content.decode()
    assert 'id="sankey"' in page and "echarts.min.js" in page and "已零售" in page
    keeper = world.enterprises["liangxi"].credit_code
    page = admin.get("/trace/stock/", {"holder": keeper}).content.decode()
    assert "liangxi测试药业有限公司：1 件" in page and "B1001" in page
    assert client(world, "district").get("/trace/stock/", {"holder": keeper}).status_code == 404
    assert client(world, "adr_analyst").get("/trace/recall/", {"lot": "B1001"}).status_code == 403
    bad = admin.get("/trace/code/", {"code": "12345"}).content.decode()
    assert "追溯码无效" in bad


def test_upload_reports_and_is_idempotent(world, settings, tmp_path):
    settings.YAOJIAN_TRACE_DIR = tmp_path
    data, _units = flow_csv(world)
    regulator = client(world, "district")
    audits = AuditRecord.objects.filter(object_type="trace.traceevent")
    page = regulator.post("/trace/ingest/", {"file": io.BytesIO(data)}).content.decode()
    assert "接收 7" in page and audits.count() == 1
    page = regulator.post("/trace/ingest/", {"file": io.BytesIO(data)}).content.decode()
    assert "接收 0" in page and "重复 7" in page and audits.count() == 1
    bad = data.replace(b"2026-03-04 10:00:00", b"2026-13-04 10:00:00")
    page = regulator.post("/trace/ingest/", {"file": io.BytesIO(bad)}).content.decode()
    assert "拒收原因" in page and "第 5 行 时间" in page
    assert client(world, "inspector").post("/trace/ingest/", {"file": io.BytesIO(data)}).status_code == 403


def test_sankey_links_never_loop():
    from yaojian.trace.views import _acyclic

    links = {("厂", "批发"): 10, ("批发", "药店"): 6, ("药店", "批发"): 2, ("药店", "已零售"): 4}
    assert _acyclic(links) == {("厂", "批发"): 10, ("批发", "药店"): 6, ("药店", "已零售"): 4}
