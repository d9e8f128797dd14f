"""Browser test: the district overview, the alert with its chart, a response recorded on the board, the series."""

import pytest

from yaojian.core.testing import sign_in
from yaojian.core.tests.test_browser import ARTIFACTS
from yaojian.pharmacy import demo

from .conftest import AS_OF


@pytest.mark.browser
def test_alert_chart_and_response_board(transactional_db, live_server, shops, page):
    summary = demo.generate_purchases(division="320100", days=70, as_of=AS_OF, max_pharmacies=10)
    ARTIFACTS.mkdir(exist_ok=True)
    day = AS_OF.isoformat()

    sign_in(page, live_server.url, "district")
    page.click("nav.menu >> text=智慧药店")
    page.goto(f"{live_server.url}/pharmacy/?day={day}")
    page.wait_for_selector("#district-treemap canvas")
    assert page.inner_text("[data-testid=day-alerts]") == "1"
    assert "退热药" in page.inner_text("[data-testid=day-alert-table]")
    page.screenshot(path=str(ARTIFACTS / "pharmacy-overview.png"), full_page=True)

    page.click("text=处置清单")
    page.wait_for_selector("table >> text=退热药")
    page.screenshot(path=str(ARTIFACTS / "pharmacy-alert-list.png"), full_page=True)
    page.click("table tbody tr >> nth=0 >> a >> nth=0")
    page.wait_for_selector("#series-chart canvas")
    points = page.inner_text("table.points")
    assert all(name in points for name in summary.outbreak_pharmacies)
    assert page.inner_text("[data-testid=alert-status]") == "新预警"
    page.select_option("select[name=status]", "verifying")
    page.fill("textarea[name=note]", "已通知三家药店核实发热购药人群")
    page.click("text=记录处置")
    page.wait_for_selector("text=已记录处置")
    assert page.inner_text("[data-testid=alert-status]") == "核实中"
    assert "已通知三家药店核实发热购药人群" in page.inner_text("[data-testid=alert-notes]")
    page.screenshot(path=str(ARTIFACTS / "pharmacy-alert.png"), full_page=True)

    page.goto(f"{live_server.url}/pharmacy/series/?class=antipyretic&division=320106&detector=c3&day={day}")
    page.wait_for_selector("#series-chart canvas")
    assert page.inner_text("[data-testid=alarm-count]") != "超阈值 0 天"
    page.screenshot(path=str(ARTIFACTS / "pharmacy-series.png"), full_page=True)

    # The response board on a phone: the chart and the form stay within the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.go_back()
    page.wait_for_selector("#series-chart canvas")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "pharmacy-alert-phone.png"), full_page=True)
