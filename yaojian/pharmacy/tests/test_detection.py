"""Detection: counts → detectors → multi-point trigger at its edges (k − 1 vs k pharmacies, m − 1 vs m
districts), idempotent daily runs, the planted demo outbreak, the chart series, and the response board."""

import datetime

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from yaojian.core.models import AuditRecord
from yaojian.pharmacy import demo, detection
from yaojian.pharmacy.models import Alert, AlertLevel, AlertStatus, DailyCount, DrugClass, WarningConfig

from .conftest import AS_OF, plant_counts


def classes():
    return {c.code: c for c in DrugClass.objects.all()}


def c1_config(version=1, **overrides) -> WarningConfig:
    return WarningConfig.objects.create(version=version, detectors=["c1"], **overrides)


def test_multi_point_counts_alarming_points_per_group():
    groups = np.array(["1|320106", "1|320106", "1|320106", "1|320102", "2|320106"])
    alarms = np.array([True, True, False, True, True])
    assert {k: v.tolist() for k, v in detection.multi_point(groups, alarms, 2).items()} == {"1|320106": [0, 1]}
    assert detection.multi_point(groups, alarms, 3) == {}
    assert set(detection.multi_point(groups, alarms, 1)) == {"1|320106", "1|320102", "2|320106"}


def test_k_minus_one_pharmacies_do_not_alert_and_k_do(shops):
    c = classes()
    gulou, xuanwu = shops.pharmacies[:4], shops.pharmacies[4:6]
    plant_counts(gulou, c["antipyretic"], AS_OF, spikes=gulou[:2])  # k − 1 = 2 pharmacies
    plant_counts(gulou, c["cough_cold"], AS_OF, spikes=gulou[:3])  # k = 3 pharmacies
    plant_counts(gulou[:1] + xuanwu[:1], c["antiviral"], AS_OF, spikes=[gulou[0], xuanwu[0]], seed=4)
    plant_counts(shops.pharmacies[4:], c["antidiarrhoeal"], AS_OF, spikes=[xuanwu[0]], seed=5)
    config = c1_config(min_pharmacies=3, min_districts=2)
    detection.detect(AS_OF, config=config)
    found = {(a.drug_class.code, a.level, a.division_code): a for a in Alert.objects.all()}
    assert set(found) == {
        ("cough_cold", AlertLevel.PHARMACIES, "320106"),
        # One pharmacy in each of two districts: not k pharmacies anywhere, but m = 2 districts of 南京市.
        ("antiviral", AlertLevel.DISTRICTS, "320100"),
    }
    cough = found[("cough_cold", AlertLevel.PHARMACIES, "320106")]
    assert cough.n_points == 3 and {p["key"] for p in cough.points} == {p.pk for p in gulou[:3]}
    assert cough.detectors == ["c1"] and all(p["count"] == 36 for p in cough.points)
    assert {p["key"] for p in found[("antiviral", AlertLevel.DISTRICTS, "320100")].points} == {"320106", "320102"}
    # Lowering k to 2 lets the antipyretic pair through; raising m to 3 stops the antiviral one.
    Alert.objects.all().delete()
    detection.detect(AS_OF, config=c1_config(version=2, min_pharmacies=2, min_districts=3))
    codes = {(a.drug_class.code, a.level) for a in Alert.objects.all()}
    assert ("antipyretic", AlertLevel.PHARMACIES) in codes and ("antiviral", AlertLevel.DISTRICTS) not in codes


def test_detect_is_idempotent_per_day_and_extends_an_open_alert(shops):
    c = classes()
    gulou = shops.pharmacies[:4]
    plant_counts(gulou, c["cough_cold"], AS_OF, spikes=gulou[:3])
    c1_config()
    call_command("pharmacy", "detect", "--as-of", AS_OF.isoformat())
    first = list(Alert.objects.values("pk", "first_day", "last_day", "points"))
    runs = AuditRecord.objects.filter(object_type="pharmacy.alert").count()
    result = detection.detect(AS_OF)
    assert result.created == [] and list(Alert.objects.values("pk", "first_day", "last_day", "points")) == first
    assert AuditRecord.objects.filter(object_type="pharmacy.alert").count() == runs + 1
    # The next day's spike in the same pharmacies extends the open alert instead of opening another.
    next_day = AS_OF + datetime.timedelta(days=1)
    for pharmacy in gulou[:3]:
        DailyCount.objects.create(
            day=next_day, pharmacy=pharmacy, division_code="320106", drug_class=c["cough_cold"], buyers=200
        )
    detection.detect(next_day)
    alert = Alert.objects.get()
    assert (alert.first_day, alert.last_day) == (AS_OF, next_day)


def test_the_planted_demo_outbreak_is_caught(shops):
    summary = demo.generate_purchases(division="320100", days=70, as_of=AS_OF, max_pharmacies=10)
    assert summary.records > 5000 and len(summary.outbreak_pharmacies) == 3
    fever = Alert.objects.filter(drug_class__code="antipyretic", level=AlertLevel.PHARMACIES, division_code="320106")
    assert fever.count() == 1
    alert = fever.get()
    assert set(summary.outbreak_pharmacies) <= {p["label"] for p in alert.points}
    assert alert.last_day == AS_OF and alert.first_day >= AS_OF - datetime.timedelta(days=4)
    # Nothing fired in the weeks before the outbreak began.
    assert not Alert.objects.filter(first_day__lt=AS_OF - datetime.timedelta(days=4)).exists()


def test_series_chart_has_threshold_and_alarm_markers(shops):
    c = classes()
    gulou = shops.pharmacies[:4]
    plant_counts(gulou, c["antipyretic"], AS_OF, spikes=gulou)
    config = c1_config()
    counts = DailyCount.objects.filter(drug_class=c["antipyretic"], division_code="320106")
    chart = detection.series_chart(counts, AS_OF, "c1", days=30, config=config)
    assert len(chart["days"]) == len(chart["counts"]) == len(chart["upper"]) == 30
    assert chart["days"][-1] == AS_OF.isoformat() and chart["counts"][-1] == 4 * 36
    assert chart["alarms"] == [[AS_OF.isoformat(), 144]] and chart["upper"][-1] < 144
    # The textbook C3 counts the day itself: a one-day surge alarms that very day.
    c3 = detection.series_chart(counts, AS_OF, "c3", days=30, config=config)
    assert c3["alarms"][-1][0] == AS_OF.isoformat()


def test_response_board_updates_are_audited_and_refused_to_readers(shops):
    c = classes()
    plant_counts(shops.pharmacies[:4], c["cough_cold"], AS_OF, spikes=shops.pharmacies[:3])
    c1_config()
    detection.detect(AS_OF)
    alert = Alert.objects.get()
    url = reverse("pharmacy:alert-detail", args=[alert.pk])
    district = Client()
    district.force_login(shops.users["district"])
    page = district.get(url)
    assert page.status_code == 200 and "药店1号大药房" in page.content.decode()
    data = {"status": AlertStatus.VERIFYING, "assignee": shops.users["inspector"].pk, "note": "已电话核实三家药店"}
    assert district.post(url, data).status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.assignee, alert.closed_at) == (AlertStatus.VERIFYING, shops.users["inspector"], None)
    assert "已电话核实三家药店" in alert.notes
    trail = AuditRecord.objects.filter(object_type="pharmacy.alert", object_id=str(alert.pk), action="update").get()
    assert trail.before["status"] == "new" and trail.after["status"] == "verifying"
    assert district.post(url, {"status": AlertStatus.CLOSED, "note": "排除聚集"}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CLOSED and alert.closed_at is not None
    inspector = Client()
    inspector.force_login(shops.users["inspector"])
    assert inspector.get(url).status_code == 200
    assert inspector.post(url, {"status": AlertStatus.NEW}).status_code == 403
    assert Alert.objects.get().status == AlertStatus.CLOSED
    for page_name in ("pharmacy:overview", "pharmacy:series", "pharmacy:alert-list"):
        assert district.get(reverse(page_name), {"day": AS_OF.isoformat()}).status_code == 200


def test_demo_command_needs_three_pharmacies(shops):
    with pytest.raises(CommandError, match="药店不足 3 家"):
        call_command("pharmacy", "demo", "--division", "320213", "--days", "40")


def test_settings_are_published_as_audited_versions_by_the_administrator(shops):
    url = reverse("pharmacy:config")
    admin, district = Client(), Client()
    admin.force_login(shops.users["admin"])
    district.force_login(shops.users["district"])
    assert district.get(url).status_code == 200 and "同区县 ≥ 3 家药店" in district.get(url).content.decode()
    values = {
        "metric": "buyers",
        "detectors": ["c1", "cusum"],
        "history_days": 90,
        "ears_baseline": 7,
        "ears_alpha": 0.001,
        "c3_threshold": 3,
        "min_sigma": 1,
        "cusum_baseline": 28,
        "cusum_k": 0.5,
        "cusum_h": 4,
        "farrington_freq": 7,
        "farrington_b": 4,
        "farrington_w": 1,
        "farrington_alpha": 0.01,
        "min_pharmacies": 4,
        "min_districts": 3,
        "retention_days": 90,
    }
    assert district.post(url, values).status_code == 403
    assert admin.post(url, values | {"farrington_w": 3}).status_code == 400
    assert admin.post(url, values).status_code == 302
    current = WarningConfig.current()
    assert (current.version, current.detectors, current.min_pharmacies) == (1, ["c1", "cusum"], 4)
    assert AuditRecord.objects.filter(object_type="pharmacy.warningconfig", action="create").count() == 1
