"""Core pages 平台页面: sign-in and out, the home page by role, the audit trail, export neutralising."""

import pytest
from django.test import Client

from yaojian.core import services
from yaojian.core.models import AuditRecord
from yaojian.core.testing import PASSWORD
from yaojian.core.tests.viewtools import client_for
from yaojian.core.views_generic import neutralise


def test_login_and_logout(world):
    client = Client()
    assert client.get("/").status_code == 302
    page = client.get("/login/").content.decode()
    assert "登 录" in page and "Noto" not in page  # fonts come from the stylesheet
    response = client.post("/login/", {"username": "district", "password": PASSWORD})
    assert response.status_code == 302
    home = client.get("/").content.decode()
    assert "区级监管人员" in home or world.users["district"].level_label in home
    assert "鼓楼区" in home
    assert client.get("/logout/").status_code == 405  # logging out takes a POST
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused(world):
    page = Client().post("/login/", {"username": "district", "password": "wrong"}).content.decode()
    assert "用户名或密码不正确" in page


def test_home_counts_within_scope(world):
    page = client_for(world.users["city"]).get("/").content.decode()
    assert "企业档案" in page and '<span class="stat-value">2</span>' in page  # two Nanjing districts
    page = client_for(world.users["admin"]).get("/").content.decode()
    assert '<span class="stat-value">3</span>' in page


@pytest.mark.parametrize(
    ("role", "present", "absent"),
    [
        ("partner", "查看推送清单", "企业档案"),
        ("auditor", "进入审计日志", "企业档案"),
        ("enterprise", "企业档案", "不良反应"),
    ],
)
def test_home_by_role(world, role, present, absent):
    page = client_for(world.users[role]).get("/").content.decode()
    assert present in page and absent not in page


def test_audit_pages_are_scoped(world):
    admin = world.users["admin"]
    for key in ("gulou", "liangxi"):
        services.update_record(world.enterprises[key], actor=admin, address=f"{key}新址")
    own = AuditRecord.objects.get(object_id=str(world.enterprises["gulou"].pk))
    other = AuditRecord.objects.get(object_id=str(world.enterprises["liangxi"].pk))
    auditor = client_for(world.users["auditor"])
    page = auditor.get("/audit/").content.decode()
    assert f"/audit/{own.seq}/" in page and f"/audit/{other.seq}/" not in page
    detail = auditor.get(f"/audit/{own.seq}/").content.decode()
    assert "修改前后对比" in detail and "gulou路1号" in detail and "gulou新址" in detail
    assert auditor.get(f"/audit/{other.seq}/").status_code == 404
    assert client_for(world.users["enterprise"]).get("/audit/").status_code == 403
    assert auditor.get("/enterprises/").status_code == 403
    filtered = auditor.get("/audit/", {"action": "create"}).content.decode()
    assert "暂无数据" in filtered
    assert f"/audit/{own.seq}/" in auditor.get("/audit/", {"actor": "admin", "since": "2000-01-01"}).content.decode()


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise(value):
    assert neutralise(value) == "'" + value


def test_neutralise_leaves_plain_text():
    assert neutralise("阿莫西林") == "阿莫西林" and neutralise(None) == "" and neutralise(12) == "12"


def test_static_assets_are_local(world):
    page = client_for(world.users["district"]).get("/").content.decode()
    assert "/static/yaojian/app.css" in page and "/static/django_htmx/htmx-2.min.js" in page
    assert "http://" not in page and "https://" not in page
    assert "vendor/echarts/echarts.min.js" in page  # the home page draws the overview chart …
    listing = client_for(world.users["district"]).get("/enterprises/").content.decode()
    assert "echarts" not in listing  # … pages without charts do not load ECharts
