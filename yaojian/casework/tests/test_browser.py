"""Browser test: code a term from the coding queue with the htmx term picker, then review a duplicate pair."""

import datetime

import pytest

from yaojian.adr.models import AdrReaction, AdrReport
from yaojian.casework import coding
from yaojian.casework.dictionary import load_project_dictionary
from yaojian.core.testing import sign_in
from yaojian.core.tests.test_browser import ARTIFACTS

from .cases import add_case


@pytest.mark.browser
def test_coding_queue_and_duplicate_review(transactional_db, live_server, world, page):
    load_project_dictionary(actor=None)  # a transactional database starts without the migration's rows
    ent = world.enterprises["gulou"]
    onset = (("手足口周发麻感", datetime.date(2025, 4, 2)),)
    first = add_case(ent, "BR-1", reactions=onset, patient_sex="F", patient_age=30, patient_initials="WL")
    second = add_case(ent, "BR-2", reactions=onset, patient_sex="F", patient_age=30, patient_initials="WL")
    coding.code_pending()
    ARTIFACTS.mkdir(exist_ok=True)

    sign_in(page, live_server.url, "adr_analyst")
    page.click("nav.menu >> text=编码队列")
    page.wait_for_selector("table.queue >> text=手足口周发麻感")
    search = page.locator("table.queue input[name=term_q]").first
    search.fill("感觉异常")
    page.wait_for_selector("table.queue label.term-option >> text=感觉异常")
    page.screenshot(path=str(ARTIFACTS / "casework-coding-queue.png"), full_page=True)
    page.locator("table.queue label.term-option", has_text="感觉异常").first.locator("input").check()
    page.click("table.queue >> text=确认编码")
    page.wait_for_selector("text=暂无待编码术语")
    assert "已编码为 感觉异常" in page.inner_text(".messages")
    assert AdrReaction.objects.filter(coded_term__name="感觉异常").count() == 2

    page.click("nav.menu >> text=重复报告")
    page.click("text=运行识别")
    page.wait_for_selector("table >> text=BR-2")
    page.click("table tbody a[href*='/duplicates/']")
    page.wait_for_selector("text=合并（保留报告甲）")
    page.screenshot(path=str(ARTIFACTS / "casework-duplicate.png"), full_page=True)
    page.click("text=合并（保留报告甲）")
    page.wait_for_selector("text=撤销合并")
    assert AdrReport.objects.get(pk=second.pk).duplicate_of_id == first.pk
