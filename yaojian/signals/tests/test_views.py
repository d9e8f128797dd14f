"""Workbench pages 信号工作台: new run form, run page, signal list filters and Excel export, pair page,
workflow through the page, product fragment."""

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from .. import services
from ..models import Signal, SignalRun, SignalStatus
from .cases import build_cases
from .test_runs import PERIOD, PRR_ONLY


@pytest.fixture
def signal(world):
    cases = build_cases(world)
    cases["cases"][1].patient_name = "张三丰"
    cases["cases"][1].save()
    run = services.run_signals(world.users["adr_analyst"], division_prefix="320106", criteria=PRR_ONLY, **PERIOD)
    return Signal.objects.get(first_run=run)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_new_run_form_runs_and_shows_the_run(world):
    build_cases(world)
    client = client_for(world.users["adr_analyst"])
    page = client.get(reverse("signals:signalrun-add"))
    assert page.status_code == 200 and "鼓楼区" in page.content.decode()
    data = {
        "date_from": "2025-01-01",
        "date_to": "2025-12-31",
        "division_prefix": "320106",
        "category": "",
        "strata": ["sex"],
        "methods": ["PRR"],
        "min_methods": 1,
        "min_n": 3,
        "prr": 2,
        "chi2": 2,
        "n": 3,
        "ror025": 1,
        "ic025": 0,
        "eb05": 2,
    }
    response = client.post(reverse("signals:signalrun-add"), data)
    run = SignalRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert run.strata == ["sex"] and run.criteria["chi2"] == 2.0 and run.created_by == world.users["adr_analyst"]
    detail = client.get(run.get_absolute_url()).content.decode()
    assert "gulou阿莫西林胶囊" in detail and "鼓楼区" in detail and "性别" in detail
    # A scope outside the jurisdiction is not even offered.
    refused = client.post(reverse("signals:signalrun-add"), {**data, "division_prefix": "3201"})
    assert refused.status_code == 400 and SignalRun.objects.count() == 1


def test_run_page_exports_its_pairs(signal, world):
    client = client_for(world.users["district"])
    response = client.get(signal.first_run.get_absolute_url(), {"export": "xlsx", "meets_criteria": "1"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[0][:3] == ("药品", "不良事件", "报告数 N") and len(rows) == 2


def test_signal_list_filters_and_excel_export(signal, world):
    client = client_for(world.users["adr_analyst"])
    url = reverse("signals:signal-list")
    assert "gulou阿莫西林胶囊" in client.get(url).content.decode()
    for params, shown in (
        ({"status": "new"}, True),
        ({"status": "confirmed"}, False),
        ({"event": "皮疹"}, True),
        ({"event": "恶心"}, False),
        ({"product": signal.product_id}, True),
        ({"min_n": 4}, True),
        ({"min_n": 5}, False),
        ({"min_prr": 5}, True),
        ({"min_prr": 6}, False),
        ({"run": signal.first_run_id}, True),
        ({"run": signal.first_run_id + 1}, False),
    ):
        html = client.get(url, params).content.decode()
        assert ("gulou阿莫西林胶囊" in html) is shown, params
    response = client.get(url, {"export": "xlsx", "status": "new"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[0][0] == "药品" and rows[1][:2] == (signal.drug_label, "皮疹") and rows[1][4] == "4"


def test_signal_page_measures_case_series_and_workflow(signal, world):
    client = client_for(world.users["adr_analyst"])
    html = client.get(signal.get_absolute_url()).content.decode()
    assert "PRR（95% CI）" in html and "5.600" in html and "EBGM（EB05–EB95）" in html
    assert "SIG-1" in html and "SIG-4" in html and "SIG-13" not in html  # the merged duplicate is not a case
    assert "张**" in html and "张三丰" not in html  # patient names masked
    assert "ic-chart" in html and "2025Q1" in html
    illegal = client.post(signal.get_absolute_url(), {"to_status": SignalStatus.CONFIRMED})
    assert illegal.status_code == 400  # not offered from 新信号
    analyst = world.users["adr_analyst"]
    response = client.post(
        signal.get_absolute_url(), {"to_status": SignalStatus.ASSESSING, "assignee": analyst.pk, "note": "开始评估"}
    )
    assert response.status_code == 302
    signal.refresh_from_db()
    assert (signal.status, signal.assignee) == (SignalStatus.ASSESSING, analyst)
    assert "开始评估" in client.get(signal.get_absolute_url()).content.decode()


def test_pair_page_links_its_signal(signal, world):
    client = client_for(world.users["city"])
    html = client.get(signal.latest_result.get_absolute_url()).content.decode()
    assert "对应信号" in html and signal.get_absolute_url() in html
    other = signal.first_run.results.exclude(pk=signal.latest_result_id).filter(n=5).get()
    html = client.get(other.get_absolute_url()).content.decode()
    assert "仅对满足判定标准的组合计算季度趋势" in html and "SIG-8" in html


def test_product_fragment(signal, world):
    url = reverse("signals:product-signals", args=[signal.product_id])
    html = client_for(world.users["district"]).get(url).content.decode()
    assert "皮疹" in html and "新信号" in html and "<html" not in html
    assert client_for(world.users["inspector"]).get(url).status_code == 403
    other = reverse("signals:product-signals", args=[world.products["liangxi"].pk])
    assert client_for(world.users["district"]).get(other).status_code == 404


def test_product_page_loads_the_fragment_for_signal_readers_only(signal, world):
    page = reverse("registry:product-detail", args=[signal.product_id])
    fragment = reverse("signals:product-signals", args=[signal.product_id])
    assert fragment in client_for(world.users["district"]).get(page).content.decode()
    assert fragment not in client_for(world.users["inspector"]).get(page).content.decode()
