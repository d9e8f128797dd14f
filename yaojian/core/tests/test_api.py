"""API platform 接口平台: authentication, schema and documentation, audit endpoints, the token command."""

import datetime
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import URLPattern, get_resolver
from django.utils import timezone

from yaojian.core import services
from yaojian.core.models import ApiToken, AuditRecord
from yaojian.core.tests.apitools import token_client
from yaojian.registry.models import Enterprise


def _bearer(key: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {key}"})


def test_valid_token_authenticates_and_records_use(world):
    token, key = ApiToken.issue(world.users["district"], "数据交换")
    assert token.last_used_at is None
    response = _bearer(key).get("/api/enterprises/")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [world.enterprises["gulou"].pk]
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize("header", [None, "Bearer yj_wrong", "Bearer ", "Token yj_x", "Basic ZGlzdHJpY3Q6eA=="])
def test_missing_or_wrong_credentials_answer_401(world, header):
    client = Client(headers={"Authorization": header} if header else {})
    response = client.get("/api/enterprises/")
    assert response.status_code == 401
    assert response.json()["detail"] == "未认证：请提供有效的接口令牌或先登录"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_and_disabled_account_are_refused(world):
    expired, expired_key = ApiToken.issue(
        world.users["district"], "过期", expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert _bearer(expired_key).get("/api/enterprises/").status_code == 401
    expired.refresh_from_db()
    assert expired.last_used_at is None
    _token, key = ApiToken.issue(world.users["city"], "停用账号")
    world.users["city"].is_active = False
    world.users["city"].save()
    assert _bearer(key).get("/api/enterprises/").status_code == 401


def test_session_login_works_for_browsers(world, client):
    client.force_login(world.users["city"])
    response = client.get("/api/enterprises/")
    assert response.status_code == 200 and response.json()["count"] == 2


def test_session_writes_need_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["district"])
    response = client.patch(f"/api/enterprises/{world.enterprises['gulou'].pk}/", {}, content_type="application/json")
    assert response.status_code == 403
    bearer = token_client(world.users["district"])  # a token is not a cookie: no CSRF exposure
    assert (
        bearer.patch(
            f"/api/enterprises/{world.enterprises['gulou'].pk}/", {}, content_type="application/json"
        ).status_code
        == 200
    )


def test_wrong_role_403_and_out_of_scope_404(world):
    partner = token_client(world.users["partner"])
    assert partner.get("/api/enterprises/").status_code == 403
    assert partner.get(f"/api/enterprises/{world.enterprises['gulou'].pk}/").json()["detail"] == "无此操作权限"
    # The role is judged before the body is read: a refused write answers 403 whatever it sent.
    for body in ({}, {"name": 1}, "not json"):
        assert partner.post("/api/enterprises/", body, content_type="application/json").status_code == 403
        assert (
            partner.patch(
                f"/api/enterprises/{world.enterprises['gulou'].pk}/", body, content_type="application/json"
            ).status_code
            == 403
        )
    district = token_client(world.users["district"])
    for key in ("xuanwu", "liangxi"):
        response = district.get(f"/api/enterprises/{world.enterprises[key].pk}/")
        assert response.status_code == 404 and world.enterprises[key].name not in response.content.decode()


def _api_routes() -> set[str]:
    """Every ninja operation's route, as OpenAPI writes it (``{pk}`` for ``<int:pk>``)."""
    api_resolver = next(p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "api")
    routes = set()
    for pattern in api_resolver.url_patterns:
        if isinstance(pattern, URLPattern) and pattern.name not in ("api-root", "openapi-json", "openapi-view"):
            routes.add("/api/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern)))
    return routes


def test_openapi_schema_lists_every_route_with_chinese_descriptions(db):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) == _api_routes()
    assert len(schema["paths"]) == 33  # per-model CRUD (packaging levels too), audit, tokens, the ADR case read and
    # smart-pharmacy submissions
    assert set(schema["paths"]["/api/complaints/{pk}/"]) == {"get", "patch", "delete"}
    components = schema["components"]["schemas"]
    assert components["EnterpriseOut"]["properties"]["credit_code"]["description"] == "统一社会信用代码"
    assert "投诉人" in components["ComplaintOut"]["properties"]["complainant_name"]["description"]
    assert "bearer" in str(schema["components"]["securitySchemes"]).lower()
    list_parameters = {p["name"] for p in schema["paths"]["/api/enterprises/"]["get"]["parameters"]}
    assert {"limit", "offset", "q", "division", "type", "credit_grade", "licence_state"} <= list_parameters


def test_docs_page_loads_only_local_assets(db):
    response = Client().get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert urls and all(url.startswith("/static/") for url in urls), urls
    assert "cdn" not in html.lower() and "https://" not in html
    assert re.search(r'"validatorUrl":\s*null', html)  # no call to validator.swagger.io
    for url in urls:
        assert Client().get(url).status_code == 200, url


def test_audit_endpoints_follow_role_and_jurisdiction(world):
    gulou, liangxi = world.enterprises["gulou"], world.enterprises["liangxi"]
    services.update_record(gulou, actor=world.users["district"], address="鼓楼区新地址")
    services.update_record(liangxi, actor=world.users["admin"], address="梁溪区新地址")

    district = token_client(world.users["district"])
    listing = district.get("/api/audit/").json()
    assert [(rec["object_id"], rec["action_display"]) for rec in listing["items"]] == [(str(gulou.pk), "修改")]
    seq = listing["items"][0]["seq"]
    assert district.get(f"/api/audit/{seq}/").json()["after"]["address"] == "鼓楼区新地址"
    assert district.get(f"/api/audit/{seq + 1}/").status_code == 404  # the Wuxi change
    assert district.get(f"/api/audit/objects/registry.enterprise/{liangxi.pk}/").json()["count"] == 0

    admin = token_client(world.users["admin"])
    assert admin.get("/api/audit/", {"actor": "admin"}).json()["count"] == 1
    assert admin.get("/api/audit/", {"division": "320200"}).json()["count"] == 1
    assert admin.get("/api/audit/", {"object_type": "registry.enterprise", "action": "update"}).json()["count"] == 2
    assert admin.get("/api/audit/", {"action": "explode"}).status_code == 422

    auditor = token_client(world.users["auditor"])  # auditor of 320106
    assert auditor.get("/api/audit/").json()["count"] == 1
    for role in ("enterprise", "inspector", "partner"):
        assert token_client(world.users[role]).get("/api/audit/").status_code == 403


def test_token_command_prints_the_key_once(world):
    out, err = io.StringIO(), io.StringIO()
    call_command("token", "create", "district", "--name", "数据交换", "--days", "30", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert key.startswith("yj_") and key not in err.getvalue()
    token = ApiToken.objects.get(key_hash=ApiToken.hash_key(key))
    assert token.name == "数据交换" and token.expires_at > timezone.now() + datetime.timedelta(days=29)
    assert _bearer(key).get("/api/enterprises/").status_code == 200

    listing = io.StringIO()
    call_command("token", "list", "district", stdout=listing)
    assert token.prefix in listing.getvalue() and key not in listing.getvalue()
    call_command("token", "revoke", str(token.pk), stdout=io.StringIO())
    assert _bearer(key).get("/api/enterprises/").status_code == 401
    with pytest.raises(CommandError, match="用户不存在"):
        call_command("token", "create", "nobody", "--name", "x")


def test_invalid_write_changes_nothing_and_writes_no_audit(world):
    client = token_client(world.users["district"])
    audit_count = AuditRecord.objects.count()
    before = Enterprise.objects.get(pk=world.enterprises["gulou"].pk).address
    response = client.patch(
        f"/api/enterprises/{world.enterprises['gulou'].pk}/", {"address": ""}, content_type="application/json"
    )
    assert response.status_code == 422 and response.json()["errors"]["address"] == ["此字段不能为空。"]
    assert Enterprise.objects.get(pk=world.enterprises["gulou"].pk).address == before
    assert AuditRecord.objects.count() == audit_count


def test_token_self_service(world, client):
    client.force_login(world.users["district"])
    response = client.post("/api/tokens/", {"name": "报表系统", "days": 7}, content_type="application/json")
    assert response.status_code == 201
    issued = response.json()
    assert issued["key"].startswith("yj_") and issued["key"][3:11] == issued["prefix"]
    listing = client.get("/api/tokens/")
    assert [t["id"] for t in listing.json()] == [issued["id"]] and issued["key"] not in listing.content.decode()
    audit = AuditRecord.objects.get(object_type="core.apitoken", object_id=str(issued["id"]))
    assert audit.actor_id == world.users["district"].pk and issued["key"] not in str(audit.after)

    bearer = _bearer(issued["key"])
    assert bearer.get("/api/enterprises/").status_code == 200
    # A token cannot mint further tokens: only a logged-in person can.
    assert bearer.post("/api/tokens/", {"name": "衍生"}, content_type="application/json").status_code == 401
    other, _key = ApiToken.issue(world.users["city"], "他人")
    assert bearer.delete(f"/api/tokens/{other.pk}/").status_code == 404
    assert bearer.delete(f"/api/tokens/{issued['id']}/").status_code == 204
    assert bearer.get("/api/enterprises/").status_code == 401
    assert ApiToken.objects.filter(pk=other.pk).exists()


@pytest.mark.browser
def test_docs_render_offline_in_chromium(live_server, page):
    """Swagger UI draws the API from local assets alone: any request off this server is refused."""
    outside = []

    def only_local(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(live_server.url + "/api/docs")
    page.wait_for_selector("text=药监云 Yaojian API")
    page.wait_for_selector("text=/api/enterprises/")
    assert outside == []
