"""Thresholds of the anomaly scans 追溯线索阈值: versions, the rules reading them, evidence naming them, the page."""

import dataclasses
import datetime as dt
import json

import pyarrow as pa
import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from yaojian.core.models import AuditRecord
from yaojian.trace import anomalies, leads, thresholds
from yaojian.trace.flows import SCHEMA, write_events
from yaojian.trace.models import ThresholdConfig, TraceLead

from .test_anomalies import FAR, PHARMACY, T0, _weekly_sales, event, flow, found, scan
from .test_anomalies import P as PARTY


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _slow_leg(days: int = 6, hours: int = 20) -> tuple[list, str]:
    """A case that reaches 乌鲁木齐 20 hours after the 南京 pharmacy received it: ≈ 150 km/h."""
    rows, f = flow()
    rows += event(
        "receiving", T0 + dt.timedelta(days=days + 1, hours=hours), f["case"], where=FAR, destination_owner=FAR
    )
    return rows, f["case"]


def test_defaults_are_version_one(db):
    config = thresholds.active_config()
    assert (config.version, config.is_active) == (1, True)
    assert thresholds.active_thresholds() == anomalies.Thresholds(version=1)
    assert thresholds.active_thresholds().values() == {
        "max_speed_kmh": 200.0,
        "volume_min_units": 30,
        "volume_ratio": 3.0,
        "volume_z": 5.0,
        "volume_min_history": 4,
    }


def test_publishing_a_version_is_audited_and_restricted(world):
    with pytest.raises(PermissionDenied):
        thresholds.publish_thresholds({"max_speed_kmh": 120.0}, actor=world.users["inspector"])
    config = thresholds.publish_thresholds({"max_speed_kmh": 120.0}, actor=world.users["district"], note="试行")
    assert config.version == 2 and thresholds.active_config() == config
    assert ThresholdConfig.objects.filter(is_active=True).count() == 1
    assert thresholds.active_thresholds() == anomalies.Thresholds(max_speed_kmh=120.0, version=2)
    record = AuditRecord.objects.get(object_type="trace.thresholdconfig")
    assert record.before["parameters"]["max_speed_kmh"] == 200.0 and record.after["parameters"]["max_speed_kmh"] == 120


def test_a_stored_version_missing_a_name_falls_back_to_its_default(db):
    config = ThresholdConfig.objects.create(version=1, parameters={"volume_z": 4}, is_active=True)
    assert thresholds.thresholds_of(config) == anomalies.Thresholds(volume_z=4.0, version=1)


@pytest.mark.parametrize(("max_kmh", "flagged"), [(200.0, False), (100.0, True)])
def test_transit_speed_is_the_configured_one_and_recorded(tmp_path, max_kmh, flagged):
    rows, case = _slow_leg()
    leads_ = scan(tmp_path, rows, thresholds=anomalies.Thresholds(max_speed_kmh=max_kmh, version=7))
    assert found(leads_) == ({("impossible_transit", case, FAR)} if flagged else set())
    if flagged:
        evidence = json.loads(leads_["evidence"][0].as_py())
        assert (evidence["max_kmh"], evidence["thresholds_version"]) == (100.0, 7) and 100 < evidence["kmh"] < 200


def test_volume_thresholds_are_the_configured_ones_and_recorded(tmp_path):
    """A week of 20 packs against a norm of 2–3 is below the default floor of 30 packs, above a floor of 10."""
    peers = [PARTY + f"91320106MA2000000{i}" for i in range(5)]
    rows = [r for i, p in enumerate(peers) for r in _weekly_sales(p, range(6), 2, 10**6 * (i + 1))]
    rows += _weekly_sales(PHARMACY, range(5), 3, 10**8) + _weekly_sales(PHARMACY, range(5, 6), 20, 2 * 10**8)
    assert scan(tmp_path, rows, kinds=("unusual_volume",)).num_rows == 0
    lower = anomalies.Thresholds(volume_min_units=10)
    leads_ = scan(tmp_path, rows, kinds=("unusual_volume",), thresholds=lower)
    assert found(leads_) == {("unusual_volume", "8012345", PHARMACY)}
    evidence = json.loads(leads_["evidence"][0].as_py())
    assert evidence["min_packs"] == 10 and evidence["min_ratio"] == 3.0 and evidence["min_z"] == 5.0
    assert "thresholds_version" not in evidence  # built-in defaults, no published version
    stricter = dataclasses.replace(lower, volume_ratio=10.0)
    assert scan(tmp_path, rows, kinds=("unusual_volume",), thresholds=stricter).num_rows == 0


def test_scan_and_save_uses_the_published_version(world, tmp_path):
    rows, case = _slow_leg()
    write_events(pa.Table.from_pylist(rows, schema=SCHEMA), tmp_path, "t")
    assert leads.scan_and_save(tmp_path, actor=world.users["district"]).table.num_rows == 0
    thresholds.publish_thresholds({"max_speed_kmh": 100.0}, actor=world.users["district"], note="收紧")
    result = leads.scan_and_save(tmp_path, actor=world.users["district"])
    assert result.saved.created == 1
    lead = TraceLead.objects.get(kind="impossible_transit", code=case)
    assert (lead.evidence["max_kmh"], lead.evidence["thresholds_version"]) == (100.0, 2)
    page = _client(world.users["admin"]).get(lead.get_absolute_url()).content.decode()
    assert "上限 100.0" in page and "扫描所用线索阈值 v2" in page


def test_threshold_page(world):
    url = reverse("trace:thresholds")
    inspector = _client(world.users["inspector"]).get(url)
    assert inspector.status_code == 200 and "当前启用：v1" in inspector.content.decode()
    assert "发布新版本" not in inspector.content.decode()
    form = {**thresholds.active_thresholds().values(), "max_speed_kmh": 150, "note": "按高铁快运调整"}
    assert _client(world.users["inspector"]).post(url, form).status_code == 403
    regulator = _client(world.users["district"])
    for bad in ({"max_speed_kmh": 0}, {"volume_ratio": 0.5}, {"volume_min_history": 1}, {"volume_z": "abc"}):
        response = regulator.post(url, {**form, **bad})
        assert response.status_code == 400 and ThresholdConfig.objects.count() == 1
    assert regulator.post(url, {**form, "note": ""}).status_code == 400
    assert regulator.post(url, form).status_code == 302
    assert thresholds.active_thresholds() == anomalies.Thresholds(max_speed_kmh=150.0, version=2)
    html = regulator.get(url).content.decode()
    assert "当前启用：v2" in html and "按高铁快运调整" in html
