"""Risk pages: graded supervision, assistance cases, department lists, dashboard, parameters."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from yaojian.core.tests.viewtools import client_for
from yaojian.risk import actions, services
from yaojian.risk.models import AssistanceCase, Push, RiskModelConfig, TeamRole
from yaojian.risk.tests.test_engine import add_inspection
from yaojian.risk.tests.test_rules import AS_OF, model_citizen  # noqa: F401 — fixture


@pytest.fixture
def warned(world):
    """Xuanwu (Nanjing) with two critical defects → yellow warning and an assistance case."""
    add_inspection(world.enterprises["xuanwu"], datetime.date(2026, 2, 10), ["critical", "critical"])
    services.recompute(as_of=AS_OF)
    actions.apply_rules(as_of=AS_OF)
    return AssistanceCase.objects.get(enterprise=world.enterprises["xuanwu"])


def test_level_list_is_scoped_and_lists_overdue_first(world, warned):
    page = client_for(world.users["city"]).get(reverse("risk:riskassessment-list"))
    html = page.content.decode()
    assert page.status_code == 200 and "分级监管" in html
    assert "xuanwu测试药业" in html and "gulou测试药业" in html and "liangxi" not in html
    district = client_for(world.users["district"]).get(reverse("risk:riskassessment-list")).content.decode()
    assert "xuanwu" not in district and "gulou测试药业" in district
    export = client_for(world.users["city"]).get(reverse("risk:riskassessment-list") + "?export=csv&level=4")
    assert "xuanwu" in export.content.decode("utf-8-sig") and "gulou" not in export.content.decode("utf-8-sig")


def test_case_workflow_through_the_page(world, warned):
    url = warned.get_absolute_url()
    city = client_for(world.users["city"])
    page = city.get(url).content.decode()
    overdue_days = (timezone.localdate() - warned.due_on).days
    assert f"已逾期 {overdue_days} 天" in page and "严重缺陷 2 项" in page
    team = {"form": "team", **{f"team-{role}": f"{label}甲" for role, label in TeamRole.choices}}
    assert city.post(url, team).status_code == 302
    assert warned.members.count() == 5
    incomplete = {k: v for k, v in team.items() if k != "team-expert"}
    assert city.post(url, incomplete).status_code == 400
    assert (
        city.post(url, {"form": "step", "step-title": "提交整改计划", "step-done_on": "2026-03-05"}).status_code == 302
    )
    assert (
        city.post(
            url,
            {"form": "close", "close-result_summary": "已整改", "close-closed_on": "2026-03-20", "close-publish": "on"},
        ).status_code
        == 302
    )
    assert city.post(url, {"form": "comment", "comment-content": "可推广"}).status_code == 302
    page = city.get(url).content.decode()
    assert "已结案" in page and "可推广" in page and "提交整改计划" in page
    # Closed cases accept no more changes.
    assert city.post(url, {"form": "step", "step-title": "x", "step-done_on": "2026-03-21"}).status_code == 403


def test_case_pages_refuse_other_roles_and_jurisdictions(world, warned):
    url = warned.get_absolute_url()
    assert client_for(world.users["district"]).get(url).status_code == 404  # Gulou may not see Xuanwu
    assert client_for(world.users["partner"]).get(url).status_code == 403
    inspector = client_for(world.users["inspector"])
    assert inspector.get(url).status_code == 404  # inspector of Gulou
    assert client_for(world.users["auditor"]).get(reverse("risk:assistancecase-list")).status_code == 403


def test_partner_sees_and_acknowledges_its_own_list(world, model_citizen):  # noqa: F811
    actions.apply_rules(as_of=AS_OF)
    partner = client_for(world.users["partner"])
    page = partner.get(reverse("risk:push-list")).content.decode()
    assert "gulou测试药业" in page and "卫健" in page and "医保" not in page
    push = Push.objects.get(department__code="health")
    assert partner.post(reverse("risk:push-ack", args=[push.pk])).status_code == 302
    push.refresh_from_db()
    assert push.acknowledged_by == world.users["partner"]
    other = Push.objects.get(department__code="insurance")
    assert partner.post(reverse("risk:push-ack", args=[other.pk])).status_code == 404
    assert client_for(world.users["district"]).post(reverse("risk:push-ack", args=[push.pk])).status_code == 403
    assert partner.get(reverse("registry:enterprise-list")).status_code == 403
    xlsx = partner.get(reverse("risk:push-list") + "?export=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_dashboard_and_enterprise_panel(world, warned):
    city = client_for(world.users["city"])
    page = city.get(reverse("risk:dashboard")).content.decode()
    assert "驾驶舱" in page and "vendor/echarts/echarts.min.js" in page and "xuanwu测试药业" in page
    levels = json.loads(page.split('id="levels-data" type="application/json">')[1].split("</script>")[0])
    assert sum(item["value"] for item in levels) == 2  # Gulou and Xuanwu, not Wuxi
    panel = city.get(reverse("risk:enterprise-panel", args=[world.enterprises["xuanwu"].pk])).content.decode()
    assert "主要风险因素" in panel and "严重缺陷" in panel and "黄灯预警" in panel
    assert city.get(reverse("risk:enterprise-panel", args=[world.enterprises["liangxi"].pk])).status_code == 404


def test_only_administrators_publish_parameters(world):
    url = reverse("risk:config")
    data = {"parameters": json.dumps({"half_life_days": 180}), "note": "缩短半衰期"}
    assert client_for(world.users["district"]).get(url).status_code == 200
    assert client_for(world.users["district"]).post(url, data).status_code == 403
    admin = client_for(world.users["admin"])
    bad = admin.post(url, {"parameters": "{not json", "note": "x"})
    assert bad.status_code == 400 and "JSON 格式错误" in bad.content.decode()
    assert admin.post(url, {"parameters": json.dumps({"no_such": 1}), "note": "x"}).status_code == 400
    before = RiskModelConfig.objects.get(is_active=True)
    assert admin.post(url, data).status_code == 302
    config = RiskModelConfig.objects.get(is_active=True)
    assert config.version == before.version + 1 and config.parameters["half_life_days"] == 180
    assert config.parameters["product_risk"] == before.parameters["product_risk"]  # the rest carries over
