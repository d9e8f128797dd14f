"""Browser test: a case entered on a phone-sized screen, with a drug and a reaction, then its detail page."""

import pytest

from yaojian.adr.models import AdrReport
from yaojian.core.testing import sign_in
from yaojian.core.tests.test_browser import ARTIFACTS


@pytest.mark.browser
def test_case_form_on_a_phone(transactional_db, live_server, world, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "district")
    page.goto(live_server.url + "/adr/add/")
    # Nothing wider than the screen: every field is reachable without sideways scrolling.
    form_width = page.evaluate("document.querySelector('form.edit-form').getBoundingClientRect().right")
    assert form_width <= 390
    page.fill("#id_report_number", "ADR-PHONE-1")
    page.fill("#id_reported_on", "2025-06-10")
    page.select_option("#id_source", "sentinel")
    page.select_option("#id_reporting_enterprise", str(world.enterprises["gulou"].pk))
    page.fill("#id_patient_name", "王小明")
    page.fill("#id_drugs-0-name", world.products["gulou"].name)
    page.fill("#id_drugs-0-approval_number", world.products["gulou"].approval_number)
    page.fill("#id_reactions-0-reported_term", "过敏性休克")
    page.check("#id_reactions-0-life_threatening")
    page.screenshot(path=str(ARTIFACTS / "adr-case-form-phone.png"), full_page=True)
    page.click("form.edit-form button[type=submit]")  # not the header's 退出 button
    page.wait_for_selector("text=已保存")
    report = AdrReport.objects.get(report_number="ADR-PHONE-1")
    assert (report.seriousness, report.product) == ("serious", world.products["gulou"])
    body = page.inner_text("main")
    assert "危及生命" in body and "王*" in body and "王小明" not in body
    page.screenshot(path=str(ARTIFACTS / "adr-case-detail-phone.png"), full_page=True)
