"""Action rules: 优先推荐 and 黄灯预警 firing and clearing, assistance-case deadlines and escalation."""

import datetime

import pytest

from yaojian.adr.models import AdrReport
from yaojian.credit.models import CreditRating
from yaojian.risk import actions
from yaojian.risk.models import AssistanceCase, EnterpriseTag, Push, RiskWarning, RuleDecision, TeamRole
from yaojian.risk.tests.test_engine import add_inspection
from yaojian.sampling.models import SamplingTest

AS_OF = datetime.date(2026, 3, 1)


def sample(ent, product, year, result="pass", month=5):
    return SamplingTest.objects.create(
        number=f"CJ-{ent.pk}-{year}-{month}-{result}",
        enterprise=ent,
        product=product,
        sampled_on=datetime.date(year, month, 1),
        result=result,
    )


@pytest.fixture
def model_citizen(world):
    """Gulou: sampled and passed 2023–2025, no ADR reports last year, credit A."""
    ent, product = world.enterprises["gulou"], world.products["gulou"]
    AdrReport.objects.filter(enterprise=ent).update(reported_on=datetime.date(2024, 1, 1))
    for year in (2023, 2024, 2025):
        sample(ent, product, year)
    CreditRating.objects.create(enterprise=ent, grade="A", rated_on=datetime.date(2026, 1, 10))
    return ent


def tags(ent):
    return list(EnterpriseTag.objects.filter(enterprise=ent, is_active=True).values_list("tag", flat=True))


def test_priority_recommendation_fires_with_evidence_and_pushes(model_citizen, world):
    result = actions.apply_rules(as_of=AS_OF)
    assert tags(model_citizen) == ["优先推荐"]
    assert result.fired == 1  # only Gulou qualifies
    decision = RuleDecision.objects.get(enterprise=model_citizen, rule_code="priority_recommendation")
    assert decision.fired and all(line.startswith("✓") for line in decision.evidence)
    assert "2023–2025年抽检全部合格" in decision.evidence[0]
    assert set(Push.objects.filter(enterprise=model_citizen).values_list("department__code", flat=True)) == {
        "health",
        "insurance",
        "science",
        "finance",
    }
    # A second run with unchanged data decides nothing new.
    assert actions.apply_rules(as_of=AS_OF).fired == 0
    assert RuleDecision.objects.count() == 1


def test_exactly_three_years_is_required(model_citizen):
    SamplingTest.objects.filter(enterprise=model_citizen, sampled_on__year=2023).delete()
    actions.apply_rules(as_of=AS_OF)
    assert tags(model_citizen) == []
    # The current year's tests do not count towards the three full years.
    sample(model_citizen, model_citizen.held_products.first(), 2026, month=2)
    actions.apply_rules(as_of=AS_OF)
    assert tags(model_citizen) == []


def test_a_failure_in_any_year_blocks_the_tag(model_citizen):
    sample(model_citizen, model_citizen.held_products.first(), 2024, result="fail", month=9)
    actions.apply_rules(as_of=AS_OF)
    assert tags(model_citizen) == []
    assert not RuleDecision.objects.filter(enterprise=model_citizen).exists()  # never held, so nothing changed


def test_missing_adr_data_means_not_recommended(model_citizen, world):
    # Gulou's product passes to another holder: Gulou holds nothing, so it has no ADR rate.
    model_citizen.held_products.update(holder=world.enterprises["xuanwu"])
    actions.apply_rules(as_of=AS_OF)
    assert tags(model_citizen) == []


def test_adr_rate_above_mean_blocks_and_tag_is_removed_when_grade_changes_back(model_citizen, world):
    actions.apply_rules(as_of=AS_OF)
    assert tags(model_citizen) == ["优先推荐"]
    CreditRating.objects.create(enterprise=model_citizen, grade="B", rated_on=datetime.date(2026, 2, 1))
    result = actions.apply_rules(as_of=AS_OF)
    assert result.cleared == 1 and tags(model_citizen) == []
    assert Push.objects.filter(enterprise=model_citizen, revoked_on=AS_OF).count() == 4
    cleared = RuleDecision.objects.filter(enterprise=model_citizen, fired=False).get()
    assert "✗ 信用等级 B" in cleared.evidence
    # The grade changes back to A: the tag returns.
    CreditRating.objects.create(enterprise=model_citizen, grade="A", rated_on=datetime.date(2026, 2, 20))
    assert actions.apply_rules(as_of=AS_OF).fired == 1 and tags(model_citizen) == ["优先推荐"]
    # Two ADR reports in the last year for one product: rate 2 > national mean 1.
    for n in range(2):
        AdrReport.objects.create(
            report_number=f"ADR-x-{n}",
            enterprise=model_citizen,
            reported_on=datetime.date(2025, 12, 1),
            reaction="皮疹",
        )
    actions.apply_rules(as_of=AS_OF)
    assert tags(model_citizen) == []


def test_yellow_warning_opens_an_assistance_case_with_a_shortened_deadline(world):
    ent = world.enterprises["xuanwu"]
    add_inspection(ent, datetime.date(2026, 1, 20), ["critical"])
    actions.apply_rules(as_of=AS_OF)
    assert not RiskWarning.objects.exists()  # one critical defect is below the threshold of two
    add_inspection(ent, datetime.date(2026, 2, 10), ["critical", "minor"])
    actions.apply_rules(as_of=AS_OF)
    warning = RiskWarning.objects.get(enterprise=ent)
    case = warning.case
    assert case.standard_days == 30 and case.deadline_days == 21
    assert case.due_on == AS_OF + datetime.timedelta(days=21)
    # A year later the defects leave the window and the warning clears; the case stays open.
    actions.apply_rules(as_of=datetime.date(2027, 3, 1))
    warning.refresh_from_db()
    assert warning.status == "cleared" and AssistanceCase.objects.get(pk=case.pk).status == "open"


@pytest.mark.parametrize(("standard", "expected"), [(30, 21), (20, 14), (25, 17), (10, 7), (1, 1)])
def test_deadline_arithmetic(standard, expected):
    assert actions.shortened_deadline_days(standard, 0.3) == expected


def test_case_team_steps_escalation_and_closing(world):
    ent = world.enterprises["xuanwu"]
    add_inspection(ent, datetime.date(2026, 2, 10), ["critical", "critical"])
    actions.apply_rules(as_of=AS_OF)
    case = AssistanceCase.objects.get(enterprise=ent)
    regulator = world.users["province"]
    with pytest.raises(ValueError, match="行业专家"):
        actions.assign_team(case, {r: ("某人", None) for r in TeamRole.values if r != "expert"}, actor=regulator)
    actions.assign_team(case, {r: (f"{r}员", None) for r in TeamRole.values}, actor=regulator)
    assert case.members.count() == 5
    actions.add_step(case, "企业提交整改计划", datetime.date(2026, 3, 5), actor=regulator)
    assert actions.escalate_overdue(as_of=case.due_on) == 0  # due today is not overdue
    day_after = case.due_on + datetime.timedelta(days=1)
    assert actions.escalate_overdue(as_of=day_after) == 1
    assert actions.escalate_overdue(as_of=day_after) == 0  # once a day
    assert actions.escalate_overdue(as_of=day_after + datetime.timedelta(days=1)) == 1
    case.refresh_from_db()
    assert case.escalation_level == 2
    with pytest.raises(ValueError):
        actions.add_peer_comment(case, "整改到位", actor=regulator)
    actions.close_case(case, actor=regulator, result_summary="偏差管理体系已重建", closed_on=datetime.date(2026, 3, 30))
    actions.add_peer_comment(case, "整改措施可借鉴", actor=world.users["city"])
    assert case.comments.count() == 1
    assert actions.escalate_overdue(as_of=datetime.date(2026, 6, 1)) == 0  # closed cases are not escalated
