"""Browser test: open a signal from the list, read its measures and case series, see the trend charts."""

import pytest

from yaojian.core.testing import sign_in
from yaojian.core.tests.test_browser import ARTIFACTS

from .. import services
from .cases import build_cases
from .test_runs import PERIOD, PRR_ONLY


@pytest.mark.browser
def test_open_a_signal_and_its_case_series(transactional_db, live_server, world, page):
    build_cases(world)
    services.run_signals(world.users["adr_analyst"], division_prefix="320106", criteria=PRR_ONLY, **PERIOD)
    ARTIFACTS.mkdir(exist_ok=True)

    sign_in(page, live_server.url, "adr_analyst")
    page.click("nav.menu >> text=信号检测")
    page.wait_for_selector("table >> text=gulou阿莫西林胶囊")
    page.screenshot(path=str(ARTIFACTS / "signal-list.png"), full_page=True)

    page.click("table >> text=gulou阿莫西林胶囊")
    page.wait_for_selector("[data-testid=measures]")
    assert page.inner_text("[data-testid=signal-status]") == "新信号"
    measures = page.inner_text("[data-testid=measures]")
    assert "PRR（95% CI）" in measures and "5.600" in measures and "EBGM（EB05–EB95）" in measures
    series = page.inner_text("table.case-series")
    assert all(f"SIG-{k}" in series for k in (1, 2, 3, 4)) and "SIG-13" not in series
    # The charts are drawn by script after load: wait for them rather than count at once.
    page.wait_for_selector("#ic-chart canvas")
    page.wait_for_selector("#ebgm-chart canvas")
    assert page.locator("#ic-chart canvas").count() == 1 and page.locator("#ebgm-chart canvas").count() == 1
    page.screenshot(path=str(ARTIFACTS / "signal-pair.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the page still reads without sideways scroll
    page.reload()
    page.wait_for_selector("#ebgm-chart canvas")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "signal-pair-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    # The case series links to the case page.
    page.click("table.case-series >> text=SIG-4")
    page.wait_for_selector("text=不良反应报告")
    assert "/adr/" in page.url


@pytest.mark.browser
def test_new_run_from_the_form(transactional_db, live_server, world, page):
    build_cases(world)
    sign_in(page, live_server.url, "district")
    page.goto(live_server.url + "/signals/runs/add/")
    page.fill("input[name=date_from]", "2025-01-01")
    page.fill("input[name=date_to]", "2025-12-31")
    page.check("input[name=strata][value=sex]")
    page.fill("input[name=chi2]", "2")
    page.screenshot(path=str(ARTIFACTS / "signal-run-form.png"), full_page=True)
    page.click("text=开始检测")
    page.wait_for_selector("text=组合检测结果")
    assert "检测完成" in page.inner_text(".messages") and "鼓楼区" in page.inner_text("dl.facts")
    page.screenshot(path=str(ARTIFACTS / "signal-run.png"), full_page=True)
