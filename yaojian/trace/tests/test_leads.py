"""Trace leads 追溯线索: registry tables, idempotent saving, handling steps, the queue pages and their access."""

import datetime as dt
import io

import pyarrow as pa
import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from yaojian.core.identifiers import build_uscc
from yaojian.core.models import AuditRecord
from yaojian.registry.models import ProductPackage
from yaojian.registry.tests.packages import register_levels
from yaojian.trace import anomalies, leads
from yaojian.trace.flows import SCHEMA, write_events
from yaojian.trace.models import LeadStatus, TraceLead

from .test_anomalies import DRUG, LICENCES, PRODUCTS, T0, P, code, event


def _scan_sold_twice(root, seller: str, serial: int = 1) -> pa.Table:
    """A pack sold twice by ``seller`` (no receipt either): one duplicate_sale and one unreceived_sale lead."""
    rows = []
    for day in (1, 2):
        rows += event("retail_selling", T0 + dt.timedelta(days=day), code(DRUG, serial), where=seller)
    write_events(pa.Table.from_pylist(rows, schema=SCHEMA), root, f"s{serial}")
    return anomalies.run_scan(root, products=PRODUCTS, licences=LICENCES)


@pytest.fixture
def gulou_leads(world, tmp_path):
    party = P + world.enterprises["gulou"].credit_code
    leads.save_leads(_scan_sold_twice(tmp_path, party), actor=world.users["district"])
    return TraceLead.objects.order_by("kind")


def test_registry_tables(world):
    product = world.products["gulou"]
    unit, case, _pallet = register_levels(product)
    ProductPackage.objects.filter(identifier=unit).update(split_units=24)
    ProductPackage.objects.filter(identifier=case).update(is_active=False)
    products, licences = leads.registry_tables(as_of=dt.date(2025, 6, 1))
    rows = {row["code"]: row for row in products.to_pylist()}
    assert rows[unit] == {
        "code": unit,
        "product": product.approval_number,
        "level": 0,
        "rx": False,
        "controlled": False,
        "units": 24,
    }
    assert case not in rows  # an inactive level is not read
    by_party = {row["party"]: row for row in licences.to_pylist()}
    assert by_party[P + world.enterprises["gulou"].credit_code]["drug_ok"] is True


def test_saving_is_idempotent_and_audited_once_per_batch(world, tmp_path):
    party = P + world.enterprises["gulou"].credit_code
    scan = _scan_sold_twice(tmp_path, party)
    assert sorted(scan["kind"].to_pylist()) == ["duplicate_sale", "unreceived_sale"]
    first = leads.save_leads(scan, actor=world.users["district"])
    second = leads.save_leads(scan, actor=world.users["district"])
    assert (first.created, first.seen, second.created, second.seen) == (2, 0, 0, 2)
    lead = TraceLead.objects.get(kind="duplicate_sale")
    assert lead.enterprise == world.enterprises["gulou"] and lead.division_code == "320106"
    assert lead.status == LeadStatus.NEW and lead.evidence["scans"] == 2
    assert lead.found_at == dt.datetime(2025, 3, 5, 1, 0, tzinfo=dt.UTC)
    assert AuditRecord.objects.filter(object_type="trace.tracelead", action="import").count() == 2


def test_unregistered_party_is_placed_by_its_uscc(world, tmp_path):
    leads.save_leads(_scan_sold_twice(tmp_path, P + build_uscc("320213", "30000001")), actor=None)
    assert set(TraceLead.objects.values_list("division_code", "enterprise")) == {("320213", None)}


def test_saving_needs_the_right_to_add(world, tmp_path):
    with pytest.raises(PermissionDenied):
        leads.save_leads(_scan_sold_twice(tmp_path, P + "x"), actor=world.users["inspector"])


def test_handling_steps(world, gulou_leads):
    lead, regulator, inspector = gulou_leads[0], world.users["district"], world.users["inspector"]
    leads.record_step(lead, actor=regulator, status=LeadStatus.ASSIGNED, assignee=inspector, note="请核查")
    leads.record_step(lead, actor=inspector, status=LeadStatus.INVESTIGATING, note="已到店调取销售记录")
    with pytest.raises(ValueError, match="处理结果"):
        leads.record_step(lead, actor=inspector, status=LeadStatus.CONFIRMED)
    leads.record_step(lead, actor=inspector, status=LeadStatus.CONFIRMED, outcome="回流药，已立案")
    lead.refresh_from_db()
    assert (lead.status, lead.assignee, lead.outcome) == (LeadStatus.CONFIRMED, inspector, "回流药，已立案")
    assert [s.status for s in lead.steps.all()] == ["assigned", "investigating", "confirmed"]
    assert AuditRecord.objects.filter(object_type="trace.tracelead", object_id=str(lead.pk)).count() == 3
    with pytest.raises(ValueError, match="已办结"):
        leads.record_step(lead, actor=regulator, status=LeadStatus.INVESTIGATING, note="再查")


def test_handling_outside_the_jurisdiction_is_refused(world, gulou_leads):
    xuanwu = world.users["district"].__class__.objects.create_user("xuanwu_reg", role="regulator", division_id="320102")
    with pytest.raises(PermissionDenied):
        leads.record_step(gulou_leads[0], actor=xuanwu, status=LeadStatus.INVESTIGATING, note="越权")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_queue_filters_export_and_access(world, gulou_leads):
    url = reverse("trace:tracelead-list")
    page = _client(world.users["district"]).get(url, {"kind": "duplicate_sale"})
    assert page.status_code == 200 and "重复销售" in page.content.decode()
    assert page.context["table"].paginator.count == 1
    by_enterprise = _client(world.users["district"]).get(url, {"enterprise": world.enterprises["gulou"].pk})
    assert by_enterprise.context["table"].paginator.count == 2  # the dossier fragment's link
    export = _client(world.users["district"]).get(url, {"export": "xlsx"})
    assert export.status_code == 200 and "spreadsheetml" in export["Content-Type"]
    assert _client(world.users["inspector"]).get(url).context["table"].paginator.count == 2
    assert _client(world.users["enterprise"]).get(url).status_code == 403
    outsider = world.users["district"].__class__.objects.create_user(
        "xuanwu_ins", role="inspector", division_id="320102"
    )
    assert _client(outsider).get(url).context["table"].paginator.count == 0
    assert _client(outsider).get(gulou_leads[0].get_absolute_url()).status_code == 404


def test_lead_page_assigns_and_records_steps(world, gulou_leads):
    lead, client = gulou_leads[0], _client(world.users["district"])
    page = client.get(lead.get_absolute_url())
    assert page.status_code == 200 and lead.code in page.content.decode()
    assert client.post(lead.get_absolute_url(), {"form": "step", "step-status": "investigating"}).status_code == 400
    inspector = world.users["inspector"]
    response = client.post(lead.get_absolute_url(), {"form": "assign", "assign-assignee": inspector.pk})
    assert response.status_code == 302
    response = client.post(
        lead.get_absolute_url(), {"form": "close", "close-status": "dismissed", "close-outcome": "误报"}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.assignee, lead.outcome) == ("dismissed", inspector, "误报")
    assert client.post(lead.get_absolute_url(), {"form": "step", "step-note": "x"}).status_code == 403


def test_enterprise_fragment(world, gulou_leads):
    url = reverse("trace:enterprise-leads", args=[world.enterprises["gulou"].pk])
    html = _client(world.users["inspector"]).get(url).content.decode()
    assert "全部 2 条（未办结 2 条）" in html and "无来源销售 1" in html
    assert _client(world.users["enterprise"]).get(url).status_code == 403
    other = reverse("trace:enterprise-leads", args=[world.enterprises["liangxi"].pk])
    assert _client(world.users["inspector"]).get(other).status_code == 404


def test_csv_writer(tmp_path):
    scan = _scan_sold_twice(tmp_path, P + build_uscc("320106", "30000002"))
    buffer = io.StringIO()
    assert leads.write_leads_csv(scan, buffer) == 2
    lines = buffer.getvalue().splitlines()
    assert lines[0] == ",".join(leads.CSV_COLUMNS) and "重复销售" in buffer.getvalue()
