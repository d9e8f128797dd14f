"""Sentinel pages: lists, export, cluster detail (masked patients), board countdowns, task actions by role."""

import datetime
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from yaojian.core.models import AuditRecord
from yaojian.sentinel import detection
from yaojian.sentinel.models import Layer, Response, SentinelConfig, SentinelSite, TaskKind, TaskStatus

from .conftest import make_case


def client_for(world, key) -> Client:
    client = Client()
    client.force_login(world.users[key])
    return client


def plant(world, hours_ago=2):
    today = timezone.localdate()
    for n in (2, 1, 0):
        make_case(world, today - datetime.timedelta(days=n), patient_name="张三丰", patient_initials="ZSF")
    now = timezone.now() - datetime.timedelta(hours=hours_ago)
    (cluster,) = detection.detect(today, now=now, layers=(Layer.RULE,)).created
    return cluster


@pytest.mark.django_db
def test_cluster_list_detail_and_export(sites_world):
    cluster = plant(sites_world)
    district = client_for(sites_world, "district")
    page = district.get(reverse("sentinel:cluster-list"))
    assert page.status_code == 200 and "gulou阿莫西林胶囊" in page.content.decode()
    export = district.get(reverse("sentinel:cluster-list"), {"export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and "gulou阿莫西林胶囊" in rows[1]
    detail = district.get(cluster.get_absolute_url()).content.decode()
    assert "张**" in detail and "张三丰" not in detail  # masked
    assert 'id="heat-grid"' in detail and "鼓楼区" in detail
    # Another city's regulator does not reach it.
    from yaojian.core.testing import make_user

    wuxi = Client()
    wuxi.force_login(make_user("wuxi", "regulator", "320200"))
    assert wuxi.get(cluster.get_absolute_url()).status_code == 404
    assert "gulou阿莫西林胶囊" not in wuxi.get(reverse("sentinel:cluster-list")).content.decode()


@pytest.mark.django_db
def test_board_shows_server_rendered_countdowns(sites_world):
    cluster = plant(sites_world, hours_ago=2)
    html = client_for(sites_world, "district").get(reverse("sentinel:board")).content.decode()
    assert f'data-testid="response-{cluster.response.pk}"' in html
    remaining = [int(part.split('"')[0]) for part in html.split('data-remaining="')[1:]]
    assert len(remaining) == 3 and all(21 * 3600 < r <= 22 * 3600 for r in remaining)


@pytest.mark.django_db
def test_task_actions_by_role(sites_world):
    cluster = plant(sites_world)
    response = cluster.response
    url = response.get_absolute_url()
    tasks = {t.kind: t for t in response.tasks.all()}
    inspector = client_for(sites_world, "inspector")
    # An inspector completes the sampling task assigned to them, not the interview.
    refused = inspector.post(url, {"action": "complete", "task": tasks[TaskKind.INTERVIEW].pk, "result": "x"})
    assert refused.status_code == 403
    done = inspector.post(url, {"action": "complete", "task": tasks[TaskKind.SAMPLING].pk, "result": "已抽样"})
    assert done.status_code == 302
    assert response.tasks.get(kind=TaskKind.SAMPLING).status == TaskStatus.DONE
    assert inspector.post(url, {"action": "close", "conclusion": "confirmed", "assessment": "x"}).status_code == 403
    # Closing before every task is done is refused with the reason.
    district = client_for(sites_world, "district")
    early = district.post(url, {"action": "close", "conclusion": "confirmed", "assessment": "确认"})
    assert early.status_code == 400 and "三项任务全部完成" in early.content.decode()
    city = sites_world.users["city"]
    reassigned = district.post(url, {"action": "assign", "task": tasks[TaskKind.INTERVIEW].pk, "assignee": city.pk})
    assert reassigned.status_code == 302 and response.tasks.get(kind=TaskKind.INTERVIEW).assignee == city
    for kind in (TaskKind.VERIFY, TaskKind.INTERVIEW):
        assert district.post(url, {"action": "complete", "task": tasks[kind].pk, "result": "完成"}).status_code == 302
    closed = district.post(url, {"action": "close", "conclusion": "confirmed", "assessment": "确认群体不良事件"})
    assert closed.status_code == 302
    assert Response.objects.get(pk=response.pk).status == "closed"
    assert AuditRecord.objects.filter(object_type="sentinel.response", action="update", actor_name="district").exists()
    # An enterprise account sees no response.
    enterprise = client_for(sites_world, "enterprise")
    assert enterprise.get(url).status_code == 403


@pytest.mark.django_db
def test_site_registration_page_and_performance(sites_world):
    district = client_for(sites_world, "district")
    pharmacy = sites_world.pharmacies["gulou"]
    form = district.get(reverse("sentinel:sentinelsite-add")).content.decode()
    assert "gulou大药房" in form and "gulou测试药业有限公司" not in form  # only pharmacies/clinics/hospitals
    response = district.post(
        reverse("sentinel:sentinelsite-add"),
        {
            "enterprise": pharmacy.pk,
            "kind": "pharmacy",
            "watched_groups": ["paediatric", "drug_device"],
            "active_from": "2025-01-01",
        },
    )
    assert response.status_code == 302
    site = SentinelSite.objects.get()
    assert site.watched_groups == ["paediatric", "drug_device"]
    make_case(sites_world, datetime.date(2025, 3, 10), sold_on=datetime.date(2025, 3, 1))
    page = district.get(reverse("sentinel:performance"), {"start": "2025-01-01", "end": "2025-06-30"}).content.decode()
    assert "gulou大药房" in page and "沉默" in page  # last report 2025-03-10, > 30 days before 06-30
    fragment = district.get(reverse("sentinel:targets"), {"year": 2025}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert 'data-testid="sentinel-targets"' in fragment.content.decode()


@pytest.mark.django_db
def test_config_page_saves_a_new_version_for_the_administrator(sites_world):
    admin = client_for(sites_world, "admin")
    values = {
        f: getattr(SentinelConfig(), f)
        for f in (
            "annual_report_target",
            "handled_target_pct",
            "timeliness_days",
            "silence_days",
            "rule_min_cases",
            "rule_window_days",
            "batch_min_cases",
            "batch_window_days",
            "scan_baseline_days",
            "scan_max_days",
            "scan_max_zones",
            "scan_replications",
            "scan_alpha",
            "scan_min_cases",
            "response_hours",
        )
    }
    values["rule_min_cases"] = 4
    assert admin.post(reverse("sentinel:config"), values).status_code == 302
    assert SentinelConfig.current().rule_min_cases == 4
    assert AuditRecord.objects.filter(object_type="sentinel.sentinelconfig").exists()
    assert client_for(sites_world, "district").post(reverse("sentinel:config"), values).status_code == 403


def test_countdown_text_edges():
    from yaojian.sentinel.views import countdown_text

    assert countdown_text(3600 + 61) == "剩余 01:01:01"
    assert countdown_text(0) == "已超时 00:00:00"
    assert countdown_text(-6 * 3600) == "已超时 06:00:00"
