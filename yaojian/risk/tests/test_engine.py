"""Risk portrait 风险画像: scores, explanations, levels, reproducibility, backtest metrics."""

import datetime
import itertools

import numpy as np
import pytest

from yaojian.core.models import AuditRecord
from yaojian.inspections.models import Defect, Inspection
from yaojian.risk import engine, services
from yaojian.risk.models import LevelChange, RiskAssessment
from yaojian.sampling.models import SamplingTest

AS_OF = datetime.date(2026, 1, 1)


def add_inspection(enterprise, day, grades):
    inspection = Inspection.objects.create(
        number=f"JC-{enterprise.pk}-{day}", enterprise=enterprise, kind="gmp", inspected_on=day, inspectors="张检"
    )
    for n, grade in enumerate(grades):
        Defect.objects.create(inspection=inspection, code=f"D{n}", grade=grade, description="缺陷")
    return inspection


def scores_by_key(world, table):
    return {key: float(table.score[list(table.enterprise_ids).index(ent.pk)]) for key, ent in world.enterprises.items()}


def test_critical_defects_and_failures_raise_the_score_with_explanations(world):
    add_inspection(world.enterprises["xuanwu"], datetime.date(2025, 9, 1), ["critical", "critical", "major"])
    SamplingTest.objects.create(
        number="CJ-x-2",
        enterprise=world.enterprises["xuanwu"],
        product=world.products["xuanwu"],
        sampled_on=datetime.date(2025, 10, 1),
        result="fail",
        failed_items="含量测定",
    )
    config = services.active_config()
    table = engine.compute(AS_OF, config.parameters, config.version)
    scores = scores_by_key(world, table)
    assert scores["xuanwu"] > scores["gulou"] + 8
    i = list(table.enterprise_ids).index(world.enterprises["xuanwu"].pk)
    factors = engine.explain(table, i)
    assert factors[0]["factor"] == "defect_critical" and "2 项" in factors[0]["detail"]
    assert {f["factor"] for f in factors} >= {"defect_critical", "sampling_failure", "defect_major", "type_scale"}
    assert table.level[i] == 4 and table.interval_months[i] == 6


def test_events_decay_and_leave_the_window(world):
    ent = world.enterprises["gulou"]
    config = services.active_config()
    add_inspection(ent, datetime.date(2025, 12, 15), ["critical"])
    fresh = engine.compute(AS_OF, config.parameters, config.version).contributions["defect_critical"].max()
    later = (
        engine.compute(datetime.date(2027, 1, 1), config.parameters, config.version)
        .contributions["defect_critical"]
        .max()
    )
    gone = (
        engine.compute(datetime.date(2029, 1, 1), config.parameters, config.version)
        .contributions["defect_critical"]
        .max()
    )
    assert fresh == pytest.approx(4.0, rel=0.05)
    assert later == pytest.approx(fresh / 2, rel=0.05)  # one half-life later
    assert gone == 0


def test_future_records_are_not_seen(world):
    add_inspection(world.enterprises["gulou"], datetime.date(2026, 6, 1), ["critical"])
    config = services.active_config()
    table = engine.compute(AS_OF, config.parameters, config.version)
    assert table.contributions["defect_critical"].sum() == 0


def test_recompute_is_reproducible_and_logs_level_changes(world):
    first = services.recompute(as_of=AS_OF)
    assert first.scored == 3 and first.changed == 3 and first.level_changes == 3
    before = list(
        RiskAssessment.objects.filter(is_current=True).order_by("enterprise").values_list("score", "level", "factors")
    )
    again = services.recompute(as_of=AS_OF)
    assert again.changed == 0  # same data + same configuration version → same scores
    after = list(
        RiskAssessment.objects.filter(is_current=True).order_by("enterprise").values_list("score", "level", "factors")
    )
    assert before == after
    add_inspection(world.enterprises["gulou"], datetime.date(2025, 12, 1), ["critical", "critical"])
    incremental = services.recompute(as_of=AS_OF, enterprise_ids=[world.enterprises["gulou"].pk])
    assert incremental.scored == 1 and incremental.changed == 1 and incremental.level_changes == 1
    change = LevelChange.objects.filter(enterprise=world.enterprises["gulou"]).order_by("-id").first()
    assert change.to_level == 4 and "严重缺陷" in change.reason
    assert RiskAssessment.objects.filter(enterprise=world.enterprises["gulou"]).count() == 2
    assert RiskAssessment.objects.filter(enterprise=world.enterprises["gulou"], is_current=True).count() == 1
    assert AuditRecord.objects.filter(object_type="risk.riskassessment").count() == 3


def test_new_configuration_version_is_recorded_on_scores(world):
    before = services.recompute(as_of=AS_OF).config_version
    config = services.publish_config(
        {"credit_weights": {"A": -1.5, "B": 1.0, "C": 2.5, "D": 5.0}}, actor=world.users["admin"], note="B级加分"
    )
    result = services.recompute(as_of=AS_OF)
    assert result.config_version == config.version == before + 1 and result.changed == 3
    assert set(RiskAssessment.objects.filter(is_current=True).values_list("config_version", flat=True)) == {
        config.version
    }


def test_metrics():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    labels = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    # Positives at ranks 10, 9, 7 of 10: AUC = (26 - 6) / 21.
    assert services.roc_auc(scores, labels) == pytest.approx(20 / 21)
    assert services.precision_at(scores, labels, 0.2) == 1.0
    assert services.roc_auc(scores, np.zeros(10, bool)) != services.roc_auc(scores, np.zeros(10, bool))  # NaN


def test_backtest_uses_only_data_before_the_cutoff(world):
    cutoff = datetime.date(2025, 12, 31)
    add_inspection(world.enterprises["liangxi"], datetime.date(2025, 6, 1), ["critical", "major"])
    add_inspection(world.enterprises["liangxi"], datetime.date(2026, 5, 1), ["critical"])
    result = services.backtest(cutoff)
    assert result.enterprises == 3 and result.positives == 1
    assert result.auc == 1.0


def test_a_new_record_updates_the_portrait_incrementally(world, django_capture_on_commit_callbacks):
    from yaojian.core import services as core_services

    ent = world.enterprises["gulou"]
    inspection = world.records[("gulou", "inspections.inspection")]
    with django_capture_on_commit_callbacks(execute=True):
        core_services.create_record(
            Defect,
            actor=world.users["district"],
            inspection=inspection,
            code="GMP-9",
            grade="critical",
            description="数据造假",
        )
    current = RiskAssessment.objects.get(enterprise=ent, is_current=True)
    assert any(f["factor"] == "defect_critical" for f in current.factors)
    assert not RiskAssessment.objects.exclude(enterprise=ent).exists()  # only the changed enterprise


def test_adverse_events_in_several_dimensions_add_up(world):
    from yaojian.enforcement.models import Penalty
    from yaojian.risk.models import RiskModelConfig

    ent = world.enterprises["xuanwu"]
    add_inspection(ent, datetime.date(2025, 9, 1), ["critical"])
    SamplingTest.objects.create(
        number="CJ-md-1",
        enterprise=ent,
        product=world.products["xuanwu"],
        sampled_on=datetime.date(2025, 10, 1),
        result="fail",
    )
    Penalty.objects.filter(enterprise=ent).update(kind="fine")  # the world's penalty: a third dimension
    config = services.active_config()
    table = engine.compute(AS_OF, config.parameters, config.version)
    i = list(table.enterprise_ids).index(ent.pk)
    factor = next(f for f in engine.explain(table, i) if f["factor"] == "multi_dimension")
    assert factor["contribution"] == pytest.approx(3 * config.parameters["multi_dimension_weight"])
    assert "3 个维度" in factor["detail"] and "严重缺陷" in factor["detail"] and "行政处罚" in factor["detail"]
    # Version 2 predates the factor: scored with it, the factor is absent and its meaning unchanged.
    older = RiskModelConfig.objects.get(version=2)
    assert "multi_dimension" not in engine.compute(AS_OF, older.parameters, older.version).contributions


LEAD_NUMBERS = itertools.count(1)


def add_lead(enterprise, found_on, status):
    from django.utils import timezone

    from yaojian.trace.models import TraceLead

    n = next(LEAD_NUMBERS)
    moment = timezone.make_aware(datetime.datetime.combine(found_on, datetime.time(10)))
    return TraceLead.objects.create(
        division_code=enterprise.division_code,
        enterprise=enterprise,
        kind="duplicate_sale",
        code=f"8{n:019d}",
        found_at=moment,
        status=status,
        key=f"lead-{n}",
        last_scanned_at=moment,
    )


def test_trace_leads_count_by_status_with_decay(world):
    from yaojian.risk.models import RiskModelConfig

    config = services.active_config()
    weights = config.parameters["trace_lead_weights"]
    gulou, xuanwu, liangxi = (world.enterprises[k] for k in ("gulou", "xuanwu", "liangxi"))
    day = datetime.date(2025, 12, 15)
    add_lead(gulou, day, "new")
    add_lead(gulou, day, "dismissed")  # ruled out: no weight, not counted
    add_lead(xuanwu, day, "confirmed")
    add_lead(liangxi, day - datetime.timedelta(days=365), "confirmed")  # a year older: half the weight
    table = engine.compute(AS_OF, config.parameters, config.version)
    leads = dict(zip(table.enterprise_ids.tolist(), table.contributions["trace_leads"], strict=True))
    assert leads[gulou.pk] == pytest.approx(weights["new"], rel=0.05)
    assert leads[xuanwu.pk] == pytest.approx(weights["confirmed"], rel=0.05) and leads[xuanwu.pk] > leads[gulou.pk]
    assert leads[liangxi.pk] == pytest.approx(leads[xuanwu.pk] / 2, rel=0.05)
    i = list(table.enterprise_ids).index(gulou.pk)
    detail = next(f["detail"] for f in engine.explain(table, i) if f["factor"] == "trace_leads")
    assert "1 条未排除" in detail and "已查实 0 条" in detail
    # Version 4 predates the factor: it scores as it did.
    older = RiskModelConfig.objects.get(version=4)
    assert "trace_leads" not in engine.compute(AS_OF, older.parameters, older.version).contributions


def test_a_confirmed_lead_raises_the_portrait_at_once(world, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from yaojian.core.services import notify_changed
    from yaojian.risk.models import RiskAssessment
    from yaojian.trace.models import TraceLead

    ent = world.enterprises["gulou"]
    with django_capture_on_commit_callbacks(execute=True):
        lead = add_lead(ent, timezone.localdate(), "confirmed")
        notify_changed(TraceLead, [lead.enterprise_id])  # as the trace app's lead services do
    current = RiskAssessment.objects.get(enterprise=ent, is_current=True)
    assert any(f["factor"] == "trace_leads" for f in current.factors)
