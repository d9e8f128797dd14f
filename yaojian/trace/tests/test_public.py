"""Public code query 公众查询: no login, product and batch facts and the sale-count class, nothing private."""

import pytest
from django.test import Client

from yaojian.core.tests.test_browser import ARTIFACTS

from .test_views import trace  # noqa: F401  (fixture)


def test_public_query_shows_nothing_private(world, trace):  # noqa: F811
    page = Client().get("/trace/query/", {"code": trace[2][-20:]}).content.decode()
    assert "gulou阿莫西林胶囊" in page and "国药准字H20250001" in page and "0.25g" in page
    assert "gulou测试药业有限公司" in page and "B1001" in page and "2025-06-01" in page and "2028-02-29" in page
    assert "暂无销售信息" in page
    # Neither the wholesaler/pharmacy that had it nor any code of the chain beyond the one asked.
    assert "liangxi" not in page and "xuanwu" not in page and world.enterprises["liangxi"].credit_code not in page
    once = Client().get("/trace/query/", {"code": trace[1][-20:]}).content.decode()
    twice = Client().get("/trace/query/", {"code": trace[0][-20:]}).content.decode()
    assert "暂无销售信息" in once and "有2次及以上销售信息" in twice and "xuanwu" not in twice
    missing = Client().get("/trace/query/", {"code": "81234560000000000099"}).content.decode()
    assert "未查询到该追溯码的信息" in missing


@pytest.mark.browser
def test_public_query_in_a_browser(transactional_db, live_server, world, settings, tmp_path, page):
    from yaojian.trace.ingest import ingest_bytes
    from yaojian.trace.store import Store

    from .test_views import flow_csv

    settings.YAOJIAN_TRACE_DIR = tmp_path
    data, units = flow_csv(world)
    ingest_bytes(data, "flow.csv", Store(tmp_path))
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(live_server.url + "/trace/query/")
    page.fill("input[name=code]", units[0][-20:])
    page.click("button[type=submit]")
    page.wait_for_selector("#answer")
    text = page.inner_text("#answer")
    assert "gulou阿莫西林胶囊" in text and "有2次及以上销售信息" in text and "xuanwu" not in text
    page.screenshot(path=str(ARTIFACTS / "trace-public-query.png"), full_page=True)
