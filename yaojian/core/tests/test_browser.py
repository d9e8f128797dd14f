"""Browser test 浏览器测试: the district regulator signs in, filters enterprises and reads a dossier."""

import pathlib

import pytest

from yaojian.core.testing import sign_in

ARTIFACTS = pathlib.Path(__file__).resolve().parents[3] / "test-artifacts"


@pytest.mark.browser
def test_dossier_in_a_browser(transactional_db, live_server, world, page):
    ARTIFACTS.mkdir(exist_ok=True)
    sign_in(page, live_server.url, "district")
    assert page.locator(".tag").first.inner_text() == world.users["district"].level_label

    page.click("text=企业档案")
    page.fill("input[name=q]", "gulou")
    page.click("button:has-text('搜索')")
    rows = page.locator("tbody tr")
    assert rows.count() == 1
    page.click("text=gulou测试药业有限公司")
    assert page.locator("dl.facts").inner_text().count("江苏省南京市鼓楼区") == 1

    page.click(".tabs a[data-tab=penalties]")  # loaded by htmx into the tab body
    page.wait_for_selector("[data-current-tab=penalties]")
    assert "宁市监罚〔2025〕1号" in page.inner_text("#tab-body")
    assert page.url.endswith("/tab/penalties/")
    page.click(".tabs a[data-tab=complaints]")
    page.wait_for_selector("[data-current-tab=complaints]")
    body = page.inner_text("#tab-body")
    assert "TS-gulou-1" in body and "赵六" not in body
    assert page.locator(".tabs a.active").inner_text() == "投诉举报"
    page.click(".tabs a[data-tab=timeline]")
    page.wait_for_selector("[data-current-tab=timeline]")
    page.screenshot(path=str(ARTIFACTS / "dossier.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.click(".tabs a[data-tab=licences]")
    page.wait_for_selector("[data-current-tab=licences]")
    assert not page.locator(".sidebar").is_visible() or page.locator(".sidebar").bounding_box()["x"] < 0
    page.screenshot(path=str(ARTIFACTS / "dossier-phone.png"), full_page=True)
