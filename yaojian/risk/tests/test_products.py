"""Product risk 产品风险: factors, the holder's share, reproducibility, history rows only on change, the page."""

import datetime
import io
import json

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse

from yaojian.adr.models import AdrReport
from yaojian.complaints.models import Complaint
from yaojian.enforcement.models import Penalty
from yaojian.registry.models import Enterprise, Product
from yaojian.risk import engine, services
from yaojian.risk.defaults import DEFAULT_PARAMETERS, REVISIONS, add_revision
from yaojian.risk.models import ProductRiskAssessment, RiskModelConfig
from yaojian.sampling.models import SamplingTest

from .test_engine import add_inspection

AS_OF = datetime.date(2026, 1, 1)


def score_products(world):
    """Enterprise and product tables of the whole world, as the full run computes them."""
    config = services.active_config()
    enterprises = engine.compute(AS_OF, config.parameters, config.version)
    table = engine.compute_products(
        AS_OF, config.parameters, config.version, (enterprises.enterprise_ids, enterprises.compliance)
    )
    return table


def row(table, product):
    return list(table.product_ids).index(product.pk)


def factors_of(table, product) -> dict:
    return {f["factor"]: f for f in engine.explain(table, row(table, product))}


def adr(product, n, seriousness="general", day=datetime.date(2025, 11, 1), **extra):
    for _ in range(n):
        AdrReport.objects.create(
            report_number=f"ADR-{product.pk}-{AdrReport.objects.count()}",
            enterprise=product.holder,
            product=product,
            reported_on=day,
            reaction="过敏性休克",
            seriousness=seriousness,
            **extra,
        )


def test_intrinsic_attributes_raise_the_product_score(world):
    Product.objects.filter(pk=world.products["gulou"].pk).update(
        is_vaccine=True, is_cold_chain=True, is_injection=True, drug_type="biological", is_prescription=True
    )
    table = score_products(world)
    gulou, xuanwu = row(table, world.products["gulou"]), row(table, world.products["xuanwu"])
    assert table.intrinsic[gulou] == pytest.approx(table.intrinsic[xuanwu] + 3.0 + 1.5 + 1.5 + 1.0 + 0.5)
    detail = factors_of(table, world.products["gulou"])["product_attributes"]["detail"]
    assert all(word in detail for word in ("疫苗", "冷链", "注射剂", "生物制品", "处方药"))
    assert "product_attributes" not in factors_of(table, world.products["xuanwu"])
    assert table.level[gulou] > table.level[xuanwu]


def test_compliance_records_of_the_product_fire_their_factors(world):
    product = world.products["xuanwu"]
    SamplingTest.objects.create(
        number="CJ-p-1",
        enterprise=product.holder,
        product=product,
        sampled_on=datetime.date(2025, 10, 1),
        result="fail",
    )
    adr(product, 2, "serious")
    adr(product, 1, "death")
    adr(product, 4, "death", duplicate_of=world.records[("xuanwu", "adr.adrreport")])  # merged duplicates: ignored
    adr(product, 3, "death", is_nullified=True)  # nullified: ignored
    Complaint.objects.create(
        number="TS-p-1",
        enterprise=product.holder,
        product=product,
        received_on=datetime.date(2025, 11, 1),
        subject="药品质量疑似有问题",
        substantiated=True,
    )
    Penalty.objects.create(
        decision_number="宁罚〔2025〕P1号",
        enterprise=product.holder,
        product=product,
        decided_on=datetime.date(2025, 12, 1),
        violation="生产劣药",
        kind="fine",
    )
    table = score_products(world)
    factors = factors_of(table, product)
    assert {"sampling_failure", "adr_serious", "adr_death", "complaint_substantiated", "penalty"} <= set(factors)
    assert table.counts["adr_death"][row(table, product)] == 1
    assert table.counts["adr_serious"][row(table, product)] == 2
    # 1 general (the world's) + 2 serious + 1 death in the last year against the drug reference rate.
    reference = services.active_config().parameters["product_risk"]["adr_reference_per_year"]["drug"]
    assert factors["adr_rate"]["contribution"] == pytest.approx(np.log2(4 / reference))
    assert "4 份" in factors["adr_rate"]["detail"]
    assert "adr_death" not in factors_of(table, world.products["gulou"])
    assert table.compliance[row(table, product)] > table.compliance[row(table, world.products["gulou"])] + 5


def test_medical_aesthetics_and_online_sales_scenarios(world):
    product = world.products["gulou"]
    clinic = Enterprise.objects.create(
        name="鼓楼医疗美容门诊部",
        credit_code="91320106MA1TEST01X",
        type="aesthetics",
        division_id="320106",
        address="鼓楼路1号",
        legal_representative="钱某",
    )
    SamplingTest.objects.create(
        number="CJ-mei-1", enterprise=clinic, product=product, sampled_on=datetime.date(2025, 3, 1), result="pass"
    )
    Complaint.objects.create(
        number="TS-net-1",
        enterprise=product.holder,
        product=product,
        received_on=datetime.date(2025, 9, 1),
        subject="网络销售处方药",
    )
    factors = factors_of(score_products(world), product)
    assert factors["medical_aesthetics"]["contribution"] == pytest.approx(1.5)
    assert factors["online_sales"]["contribution"] == pytest.approx(1.0) and "1 件" in factors["online_sales"]["detail"]
    others = factors_of(score_products(world), world.products["xuanwu"])
    assert "medical_aesthetics" not in others and "online_sales" not in others


def test_holder_and_a_separate_manufacturer_pass_on_their_compliance_risk(world):
    product = world.products["gulou"]
    Product.objects.filter(pk=product.pk).update(manufacturer=world.enterprises["liangxi"])
    add_inspection(world.enterprises["gulou"], datetime.date(2025, 11, 1), ["critical", "critical"])
    add_inspection(world.enterprises["liangxi"], datetime.date(2025, 11, 1), ["critical"])
    config = services.active_config()
    enterprises = engine.compute(AS_OF, config.parameters, config.version)
    compliance = dict(zip(enterprises.enterprise_ids.tolist(), enterprises.compliance, strict=True))
    table = score_products(world)
    factors = factors_of(table, product)
    weights = config.parameters["product_risk"]
    assert factors["holder_risk"]["contribution"] == pytest.approx(
        weights["holder_compliance_weight"] * compliance[world.enterprises["gulou"].pk], abs=1e-4
    )
    assert factors["manufacturer_risk"]["contribution"] == pytest.approx(
        weights["manufacturer_compliance_weight"] * compliance[world.enterprises["liangxi"].pk], abs=1e-4
    )
    # Holder and manufacturer the same enterprise: counted once, as the holder.
    assert "manufacturer_risk" not in factors_of(table, world.products["xuanwu"])


def test_scores_are_reproducible_and_history_grows_only_on_change(world):
    first = services.recompute(as_of=AS_OF)
    assert first.products_scored == 3 and first.products_changed == 3
    stored = list(ProductRiskAssessment.objects.order_by("product").values_list("score", "level", "factors"))
    again = services.recompute(as_of=AS_OF)
    assert again.products_changed == 0  # same data + same configuration version → same scores, no new rows
    assert stored == list(ProductRiskAssessment.objects.order_by("product").values_list("score", "level", "factors"))

    product = world.products["liangxi"]
    SamplingTest.objects.create(
        number="CJ-p-9",
        enterprise=product.holder,
        product=product,
        sampled_on=datetime.date(2025, 12, 1),
        result="fail",
    )
    incremental = services.recompute(as_of=AS_OF, enterprise_ids=[product.holder_id])
    assert incremental.products_scored == 1 and incremental.products_changed == 1
    assert ProductRiskAssessment.objects.filter(product=product).count() == 2
    assert ProductRiskAssessment.objects.filter(product=product, is_current=True).count() == 1
    assert ProductRiskAssessment.objects.count() == 4
    # The incremental result is the full run's result: a full run afterwards changes nothing.
    assert services.recompute(as_of=AS_OF).products_changed == 0


def test_incremental_run_scores_the_product_with_its_other_enterprise(world):
    """A product made by another enterprise gets that enterprise's share even when only the holder changed."""
    product = world.products["gulou"]
    Product.objects.filter(pk=product.pk).update(manufacturer=world.enterprises["liangxi"])
    add_inspection(world.enterprises["liangxi"], datetime.date(2025, 11, 1), ["critical"])
    services.recompute(as_of=AS_OF)
    full = ProductRiskAssessment.objects.get(product=product, is_current=True).score
    ProductRiskAssessment.objects.all().delete()
    services.recompute(as_of=AS_OF, enterprise_ids=[world.enterprises["gulou"].pk])
    assert ProductRiskAssessment.objects.get(product=product, is_current=True).score == pytest.approx(full)


def test_a_version_without_product_parameters_scores_enterprises_only(world):
    """Version 1 predates the product model; choosing it again keeps its meaning."""
    RiskModelConfig.objects.update(is_active=False)
    RiskModelConfig.objects.filter(version=1).update(is_active=True)
    result = services.recompute(as_of=AS_OF)
    assert result.config_version == 1 and result.scored == 3 and result.products_scored == 0
    assert not ProductRiskAssessment.objects.exists()


def test_revisions_add_keys_and_keep_an_administrators_edits(db):
    RiskModelConfig.objects.all().delete()
    for revision in REVISIONS:
        add_revision(RiskModelConfig, revision)
    versions = list(RiskModelConfig.objects.order_by("version"))
    assert [c.version for c in versions] == list(range(1, len(REVISIONS) + 2))
    assert versions[0].parameters == DEFAULT_PARAMETERS and "product_risk" not in versions[0].parameters
    assert [c.is_active for c in versions] == [False] * len(REVISIONS) + [True]
    assert versions[2].parameters["complaint_substantiated_weight"] == 2.0  # moved from the old default 1.0
    assert versions[1].parameters["complaint_substantiated_weight"] == 1.0  # the older version is untouched
    # An administrator's own values survive a revision; only missing keys are added.
    edited = RiskModelConfig.objects.create(
        version=versions[-1].version + 1,
        parameters={
            k: v for k, v in versions[-1].parameters.items() if k not in ("product_risk", "multi_dimension_weight")
        }
        | {"half_life_days": 90, "complaint_substantiated_weight": 1.0},
        is_active=True,
    )
    RiskModelConfig.objects.exclude(pk=edited.pk).update(is_active=False)
    add_revision(RiskModelConfig, REVISIONS[0])
    upgraded = add_revision(RiskModelConfig, REVISIONS[1])
    assert upgraded.version == edited.version + 2 and upgraded.parameters["half_life_days"] == 90
    assert "product_risk" in upgraded.parameters and upgraded.parameters["multi_dimension_weight"] == 1.5
    assert upgraded.parameters["complaint_substantiated_weight"] == 2.0
    assert add_revision(RiskModelConfig, REVISIONS[1]).pk == upgraded.pk  # nothing to do: no new version
    RiskModelConfig.objects.filter(pk=upgraded.pk).update(
        parameters=upgraded.parameters | {"complaint_substantiated_weight": 3.0}
    )
    assert add_revision(RiskModelConfig, REVISIONS[1]).pk == upgraded.pk  # 3.0 is the administrator's: kept


def test_product_page_shows_the_risk_with_its_factors(world):
    Product.objects.filter(pk=world.products["gulou"].pk).update(is_vaccine=True)
    services.recompute(as_of=AS_OF)
    url = reverse("registry:product-detail", args=[world.products["gulou"].pk])
    client = Client()
    client.force_login(world.users["district"])
    page = client.get(url).content.decode()
    assert "产品风险" in page and "主要风险因素" in page and "高风险品种" in page
    factors = json.loads(page.split("data-factors='")[1].split("'")[0].replace("&quot;", '"'))
    assert any(f["name"] == "高风险品种" and "疫苗" in f["detail"] for f in factors)
    analyst = Client()
    analyst.force_login(world.users["adr_analyst"])  # reads products, not risk scores
    assert "主要风险因素" not in analyst.get(url).content.decode()


def test_dashboard_lists_top_products_and_the_list_drills_down(world):
    Product.objects.filter(pk=world.products["xuanwu"].pk).update(is_blood_product=True, is_vaccine=True)
    services.recompute(as_of=AS_OF)
    client = Client()
    client.force_login(world.users["city"])
    page = client.get(reverse("risk:dashboard")).content.decode()
    top = page.split("风险最高产品")[1].split("</table>")[0]
    assert top.index("xuanwu阿莫西林胶囊") < top.index("gulou阿莫西林胶囊") and "liangxi" not in top
    listing = client.get(reverse("risk:productriskassessment-list")).content.decode()
    assert listing.index("xuanwu阿莫西林胶囊") < listing.index("gulou阿莫西林胶囊") and "liangxi" not in listing
    level = ProductRiskAssessment.objects.get(product=world.products["xuanwu"], is_current=True).level
    filtered = client.get(reverse("risk:productriskassessment-list"), {"level": level}).content.decode()
    assert "xuanwu阿莫西林胶囊" in filtered and "gulou阿莫西林胶囊" not in filtered


def test_enterprise_user_sees_only_its_own_product_scores(world):
    services.recompute(as_of=AS_OF)
    client = Client()
    client.force_login(world.users["enterprise"])
    listing = client.get(reverse("risk:productriskassessment-list")).content.decode()
    assert "gulou阿莫西林胶囊" in listing and "xuanwu阿莫西林胶囊" not in listing


def test_a_bulk_import_rescores_the_enterprises_and_products_it_touched(
    world, tmp_path, django_capture_on_commit_callbacks
):
    from yaojian.imports.engine import run_import
    from yaojian.risk.models import RiskAssessment

    ent, product = world.enterprises["xuanwu"], world.products["xuanwu"]
    path = tmp_path / "sampling.csv"
    path.write_text(
        "抽样编号,被抽样单位统一社会信用代码,产品批准文号,抽样日期,检验结论,不合格项目\n"
        f"CJ-imp-1,{ent.credit_code},{product.approval_number},2025-12-01,不符合规定,含量测定\n",
        encoding="utf-8",
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = run_import("sampling", path)
    assert result.imported and result.created == 1
    assert set(RiskAssessment.objects.values_list("enterprise_id", flat=True)) == {ent.pk}  # only the one touched
    current = ProductRiskAssessment.objects.get(product=product, is_current=True)
    assert any(f["factor"] == "sampling_failure" for f in current.factors)
    assert not ProductRiskAssessment.objects.exclude(product=product).exists()


def test_a_very_large_change_runs_one_full_recomputation(world, monkeypatch):
    from yaojian.risk import jobs

    monkeypatch.setattr(jobs, "INCREMENTAL_LIMIT", 2)
    from yaojian.core.models import AuditRecord

    jobs.on_records_changed(sender=None, enterprise_ids={e.pk for e in world.enterprises.values()})
    run = AuditRecord.objects.filter(object_type="risk.riskassessment").latest("seq")
    assert run.after["incremental"] is False and run.after["scored"] == 3


def test_product_backtest_ranks_the_product_that_fails_next(world):
    from django.core.management import call_command

    cutoff = datetime.date(2025, 12, 31)
    xuanwu = world.products["xuanwu"]
    SamplingTest.objects.create(
        number="CJ-bt-1", enterprise=xuanwu.holder, product=xuanwu, sampled_on=datetime.date(2025, 10, 1), result="fail"
    )
    SamplingTest.objects.create(
        number="CJ-bt-2", enterprise=xuanwu.holder, product=xuanwu, sampled_on=datetime.date(2026, 3, 1), result="fail"
    )
    adr(world.products["gulou"], 1, "death", day=datetime.date(2026, 2, 1))  # after the cut-off: an outcome only
    result = services.backtest_products(cutoff)
    assert result.enterprises == 3 and result.positives == 2
    assert result.auc == pytest.approx(0.75)  # xuanwu ranks first; gulou ties liangxi
    out = io.StringIO()
    call_command("risk", "backtest", "--cutoff", "2025-12-31", "--products", stdout=out)
    assert "产品 3 个，阳性 2 个" in out.getvalue() and "ROC AUC = 0.7500" in out.getvalue()
