"""Browser test: the response board's countdowns tick, a task is completed, the cluster's heat grid draws."""

import datetime

import pytest
from django.utils import timezone

from yaojian.core.testing import sign_in
from yaojian.core.tests.test_browser import ARTIFACTS
from yaojian.sentinel import detection, services
from yaojian.sentinel.models import Layer

from .conftest import make_case


@pytest.mark.browser
def test_response_board_countdowns_and_task(transactional_db, live_server, sites_world, page):
    today = timezone.localdate()
    for n in (2, 1, 0):
        make_case(sites_world, today - datetime.timedelta(days=n), patient_name="李四")
    # One cluster detected 23 h ago (one hour left) and one 30 h ago (overdue, escalated).
    (fresh,) = detection.detect(today, now=timezone.now() - datetime.timedelta(hours=23), layers=(Layer.RULE,)).created
    for n in (2, 1, 0):
        make_case(sites_world, today - datetime.timedelta(days=n), pharmacy="xuanwu", batch="b2")
    (late,) = detection.detect(today, now=timezone.now() - datetime.timedelta(hours=30), layers=(Layer.RULE,)).created
    services.escalate(now=timezone.now())
    ARTIFACTS.mkdir(exist_ok=True)

    sign_in(page, live_server.url, "city")
    page.click("nav.menu >> text=应急处置")
    page.wait_for_selector(f"[data-testid=response-{fresh.response.pk}]")
    fresh_card = page.locator(f"[data-testid=response-{fresh.response.pk}] [data-testid=task-verify] .countdown")
    first = fresh_card.inner_text()
    assert first.startswith("剩余 00:5") or first.startswith("剩余 01:00")
    # The local script counts down from the server's figure.
    selector = f"[data-testid=response-{fresh.response.pk}] [data-testid=task-verify] .countdown"
    page.wait_for_function("([sel, text]) => document.querySelector(sel).textContent !== text", arg=[selector, first])
    late_card = page.locator(f"[data-testid=response-{late.response.pk}] [data-testid=task-verify]")
    assert late_card.locator(".countdown").inner_text().startswith("已超时 06:")
    assert "已升级" in late_card.inner_text()
    assert "报南京市督办" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "sentinel-board.png"), full_page=True)

    page.click(f"[data-testid=response-{fresh.response.pk}] h3 a")
    page.fill("[data-testid=complete-verify] textarea", "已电话核实三名患者，用药批次一致")
    page.click("[data-testid=complete-verify] button")
    page.wait_for_selector("text=已完成：信号核查")
    assert "已电话核实三名患者" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "sentinel-response.png"), full_page=True)

    page.goto(live_server.url + fresh.get_absolute_url())
    page.wait_for_selector("#heat-grid canvas")
    assert "李*" in page.inner_text("[data-testid=cluster-cases]")
    page.screenshot(path=str(ARTIFACTS / "sentinel-cluster.png"), full_page=True)
