"""Browser test: a yellow-warned enterprise's dossier, its risk factors, and the assistance case deadline."""

import datetime

import pytest
from django.utils import timezone

from yaojian.core.testing import sign_in
from yaojian.core.tests.test_browser import ARTIFACTS
from yaojian.risk import actions, services
from yaojian.risk.tests.test_engine import add_inspection


@pytest.mark.browser
def test_yellow_warning_in_a_browser(transactional_db, live_server, world, page):
    today = timezone.localdate()
    ent = world.enterprises["gulou"]
    add_inspection(ent, today - datetime.timedelta(days=20), ["critical", "critical", "major"])
    services.recompute(as_of=today)
    actions.apply_rules(as_of=today)
    ARTIFACTS.mkdir(exist_ok=True)

    sign_in(page, live_server.url, "district")
    page.goto(live_server.url + ent.get_absolute_url())
    # The dossier opens on 风险画像 with the factor explanation in words and as a chart.
    page.wait_for_selector("[data-current-tab=risk]")
    factors = page.inner_text(".factor-list")
    assert "严重缺陷" in factors and "2 项" in factors
    page.wait_for_selector("#risk-factors canvas")  # ECharts draws the bar chart after load
    assert page.locator("#risk-factors canvas").count() == 1
    assert "黄灯预警" in page.inner_text("#tab-body")
    page.screenshot(path=str(ARTIFACTS / "risk-dossier.png"), full_page=True)

    page.click("text=技术帮扶，整改截止")
    page.wait_for_selector("[data-testid=countdown]")
    due = today + datetime.timedelta(days=21)
    assert "距整改截止 21 天" in page.inner_text("[data-testid=countdown]")
    assert due.isoformat() in page.inner_text("dl.facts")
    page.screenshot(path=str(ARTIFACTS / "assistance-case.png"), full_page=True)


@pytest.mark.browser
def test_product_risk_on_the_product_page_in_a_browser(transactional_db, live_server, world, page):
    from yaojian.registry.models import Product

    today = timezone.localdate()
    product = world.products["gulou"]
    Product.objects.filter(pk=product.pk).update(is_injection=True, is_cold_chain=True)
    add_inspection(world.enterprises["gulou"], today - datetime.timedelta(days=20), ["critical"])
    services.recompute(as_of=today)
    ARTIFACTS.mkdir(exist_ok=True)

    sign_in(page, live_server.url, "district")
    # From the dashboard's top products to the product page 一品一链 and its risk panel.
    page.goto(live_server.url + "/risk/")
    page.click(f"text={product.name}")
    page.wait_for_selector("#product-risk .factor-list")
    factors = page.inner_text("#product-risk .factor-list")
    assert "高风险品种" in factors and "注射剂" in factors and "持有人合规风险" in factors
    page.wait_for_selector("#product-risk #risk-factors canvas")  # ECharts draws the bar chart after load
    assert page.locator("#product-risk #risk-factors canvas").count() == 1
    page.screenshot(path=str(ARTIFACTS / "product-risk.png"), full_page=True)
