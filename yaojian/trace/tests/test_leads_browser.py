"""Browser test: a district regulator works a trace lead from the queue (filter, evidence, assign, step, close),
then publishes a new version of the scan thresholds."""

import pytest

from yaojian.core.testing import sign_in
from yaojian.core.tests.test_browser import ARTIFACTS
from yaojian.trace import leads, thresholds
from yaojian.trace.models import LeadStatus, TraceLead

from .test_anomalies import P
from .test_leads import _scan_sold_twice


@pytest.mark.browser
def test_regulator_works_a_lead_and_publishes_thresholds(transactional_db, live_server, world, page, tmp_path):
    party = P + world.enterprises["gulou"].credit_code
    leads.save_leads(_scan_sold_twice(tmp_path, party), actor=None)  # one duplicate sale, one unreceived sale
    ARTIFACTS.mkdir(exist_ok=True)

    sign_in(page, live_server.url, "district")
    page.click("nav.menu >> text=追溯线索")
    page.wait_for_selector("text=共 2 条")
    page.select_option("select[name=kind]", "duplicate_sale")
    page.click("text=搜索")
    page.wait_for_selector("text=共 1 条")
    page.screenshot(path=str(ARTIFACTS / "trace-lead-queue.png"), full_page=True)
    page.click("table tbody a[href*='/trace/leads/']")

    page.wait_for_selector("text=证据")
    assert "扫码 2 次" in page.inner_text("body")
    assert page.locator("table.table tbody tr", has_text="江苏省").count() == 2  # the two sale events
    page.click("summary >> text=分派")
    page.select_option("select[name=assign-assignee]", label="inspector")
    page.fill("textarea[name=assign-note]", "请核查两次销售记录")
    page.click("button >> text=分派")
    page.wait_for_selector("[data-testid=lead-status] >> text=已分派")
    page.select_option("select[name=step-status]", LeadStatus.INVESTIGATING)
    page.fill("textarea[name=step-note]", "药店称第二次为补扫")
    page.click("text=记录核查情况")
    page.wait_for_selector("text=药店称第二次为补扫")
    page.click("summary >> text=办结")
    page.select_option("select[name=close-status]", LeadStatus.CONFIRMED)
    page.fill("textarea[name=close-outcome]", "查实回流药，移交稽查")
    page.click("button >> text=办结")
    page.wait_for_selector("[data-testid=lead-status] >> text=已查实")
    page.screenshot(path=str(ARTIFACTS / "trace-lead-detail.png"), full_page=True)
    lead = TraceLead.objects.get(kind="duplicate_sale")
    assert (lead.status, lead.assignee, lead.outcome) == ("confirmed", world.users["inspector"], "查实回流药，移交稽查")
    assert list(lead.steps.values_list("status", flat=True)) == ["assigned", "investigating", "confirmed"]

    page.click("a >> text=追溯线索")
    page.click("text=线索阈值")
    page.wait_for_selector("[data-testid=active-version] >> text=v1")
    speed = page.locator("input[name=max_speed_kmh]")
    speed.fill("0")
    page.fill("input[name=note]", "按高铁快运调整")
    page.click("text=保存为新版本并启用")  # the field's range (50–1200) keeps the browser from sending 0
    assert speed.evaluate("input => input.validity.rangeUnderflow") is True
    assert thresholds.active_config().version == 1
    speed.fill("300")
    page.click("text=保存为新版本并启用")
    page.wait_for_selector("[data-testid=active-version] >> text=v2")
    page.screenshot(path=str(ARTIFACTS / "trace-thresholds.png"), full_page=True)
    assert thresholds.active_thresholds().max_speed_kmh == 300.0
