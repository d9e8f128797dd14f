"""Rule actions 规则处置: tags (优先推荐), yellow warnings with technical assistance (黄灯预警 + 技术帮扶).

``apply_rules`` evaluates every active rule for every enterprise (or a subset), and acts
only on changes: a rule that newly fires sets its tag or raises its warning; a rule
that stops holding removes the tag or clears the warning. Each change is logged as a
RuleDecision with its evidence; one audit record covers the run.
"""

import datetime
import math
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.utils import timezone

from yaojian.core import audit
from yaojian.core.choices import AuditAction
from yaojian.registry.models import Enterprise

from . import pushes, rules
from .defaults import DEFAULT_RULES
from .models import (
    AssistanceCase,
    AssistanceMember,
    AssistanceStep,
    CaseStatus,
    EnterpriseTag,
    PeerComment,
    RiskWarning,
    RuleDecision,
    RuleDefinition,
    WarningStatus,
)


def active_rules() -> list[RuleDefinition]:
    if not RuleDefinition.objects.exists():
        RuleDefinition.objects.bulk_create(
            RuleDefinition(code=r["code"], name=r["name"], definition=r, version=1) for r in DEFAULT_RULES
        )
    latest = {}
    for rule in RuleDefinition.objects.filter(is_active=True).order_by("code", "version"):
        latest[rule.code] = rule  # the highest active version of each code
    return list(latest.values())


def shortened_deadline_days(standard_days: int, shortening: float) -> int:
    """The standard deadline shortened by the fraction ``shortening``, in whole days.

    30 days shortened by 30 % → 21 days; 20 → 14; 25 → 17 (17.5 rounded down, so the
    enterprise never gets more time than the rule intends).
    """
    return max(1, math.floor(standard_days * (1 - shortening) + 1e-9))


@dataclass
class RuleRunResult:
    fired: int
    cleared: int


@transaction.atomic
def apply_rules(*, actor=None, as_of: datetime.date | None = None, enterprise_ids=None) -> RuleRunResult:
    as_of = as_of or timezone.localdate()
    enterprises = Enterprise.objects.order_by("pk")
    if enterprise_ids is not None:
        enterprises = enterprises.filter(pk__in=list(enterprise_ids))
    rows = list(enterprises.values_list("pk", "division_code"))
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    divisions = {r[0]: r[1] for r in rows}
    fired_total = cleared_total = 0
    for rule in active_rules():
        spec = rule.definition
        fires, evidence = rules.evaluate(spec, ids, as_of, subset=enterprise_ids is not None)
        holding = _currently_holding(spec, ids)
        newly = np.flatnonzero(fires & ~holding)
        gone = np.flatnonzero(~fires & holding)
        decisions = [
            RuleDecision(
                rule_code=rule.code,
                rule_version=rule.version,
                enterprise_id=int(ids[i]),
                division_code=divisions[int(ids[i])],
                fired=bool(fires[i]),
                evidence=evidence(i),
                decided_on=as_of,
            )
            for i in np.concatenate([newly, gone]).tolist()
        ]
        RuleDecision.objects.bulk_create(decisions, batch_size=2000)
        for decision in decisions:
            _act(spec, rule.code, decision, as_of)
        fired_total += len(newly)
        cleared_total += len(gone)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="risk.ruledecision",
        object_repr=f"规则判定 {as_of}",
        after={
            "as_of": as_of,
            "fired": fired_total,
            "cleared": cleared_total,
            "incremental": enterprise_ids is not None,
        },
    )
    return RuleRunResult(fired_total, cleared_total)


def _currently_holding(spec: dict, ids: np.ndarray) -> np.ndarray:
    if spec["action"] == "tag":
        holders = EnterpriseTag.objects.filter(is_active=True, rule_code=spec["code"])
    else:
        holders = RiskWarning.objects.filter(status=WarningStatus.ACTIVE, rule_code=spec["code"])
    return np.isin(ids, np.array(list(holders.values_list("enterprise_id", flat=True)), dtype=np.int64))


def _act(spec: dict, code: str, decision: RuleDecision, as_of: datetime.date) -> None:
    params = spec.get("params", {})
    ent_id, division = decision.enterprise_id, decision.division_code
    if spec["action"] == "tag":
        if decision.fired:
            EnterpriseTag.objects.create(
                enterprise_id=ent_id, division_code=division, tag=params["tag"], rule_code=code, since=as_of
            )
            pushes.push_tag(ent_id, params["tag"], params.get("departments", []), as_of)
        else:
            EnterpriseTag.objects.filter(enterprise_id=ent_id, rule_code=code, is_active=True).update(
                is_active=False, until=as_of
            )
            pushes.revoke_tag(ent_id, params["tag"], as_of)
        return
    if decision.fired:
        warning = RiskWarning.objects.create(
            enterprise_id=ent_id, division_code=division, rule_code=code, raised_on=as_of, evidence=decision.evidence
        )
        days = shortened_deadline_days(params["standard_rectification_days"], params["shortening"])
        AssistanceCase.objects.create(
            warning=warning,
            enterprise_id=ent_id,
            division_code=division,
            opened_on=as_of,
            standard_days=params["standard_rectification_days"],
            deadline_days=days,
            due_on=as_of + datetime.timedelta(days=days),
        )
    else:
        RiskWarning.objects.filter(enterprise_id=ent_id, rule_code=code, status=WarningStatus.ACTIVE).update(
            status=WarningStatus.CLEARED, cleared_on=as_of
        )


def _audit_case(case: AssistanceCase, actor, before: dict, note: str) -> None:
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="risk.assistancecase",
        object_id=case.pk,
        object_repr=f"{case}：{note}",
        division_code=case.division_code,
        before=before,
        after=audit.snapshot(case),
    )


@transaction.atomic
def assign_team(case: AssistanceCase, members: dict[str, tuple[str, object]], *, actor) -> None:
    """Set the "4+1" team: role → (name, user or None). All five roles are required."""
    from .models import TeamRole

    missing = [TeamRole(r).label for r in TeamRole.values if r not in members]
    if missing:
        raise ValueError("帮扶组缺少：" + "、".join(missing))
    before = {"members": list(case.members.values_list("role", "name"))}
    case.members.all().delete()
    AssistanceMember.objects.bulk_create(
        AssistanceMember(case=case, role=role, name=name, user=user) for role, (name, user) in members.items()
    )
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="risk.assistancecase",
        object_id=case.pk,
        object_repr=f"{case}：组建帮扶组",
        division_code=case.division_code,
        before=before,
        after={"members": sorted((r, n) for r, (n, _u) in members.items())},
    )


@transaction.atomic
def add_step(case: AssistanceCase, title: str, done_on: datetime.date, *, actor, note: str = "") -> AssistanceStep:
    step = AssistanceStep.objects.create(case=case, title=title, done_on=done_on, note=note, recorded_by=actor)
    _audit_case(case, actor, {}, f"整改进展：{title}")
    return step


@transaction.atomic
def escalate_overdue(*, as_of: datetime.date | None = None, actor=None) -> int:
    """Raise the supervision level of every open case past its due date (逾期督办), once a day at most."""
    as_of = as_of or timezone.localdate()
    overdue = list(
        AssistanceCase.objects.select_for_update()
        .filter(status=CaseStatus.OPEN, due_on__lt=as_of)
        .exclude(escalated_on=as_of)
    )
    for case in overdue:
        before = audit.snapshot(case)
        case.escalation_level += 1
        case.escalated_on = as_of
        case.save(update_fields=["escalation_level", "escalated_on"])
        _audit_case(case, actor, before, f"逾期督办（第 {case.escalation_level} 级）")
    return len(overdue)


@transaction.atomic
def close_case(case: AssistanceCase, *, actor, result_summary: str, closed_on: datetime.date, publish: bool = True):
    """Close with the rectification result, published for peer review (结果公开、同行评议)."""
    if not result_summary.strip():
        raise ValueError("结案须填写整改结果")
    before = audit.snapshot(case)
    case.status, case.closed_on = CaseStatus.CLOSED, closed_on
    case.result_summary, case.is_published = result_summary, publish
    case.save(update_fields=["status", "closed_on", "result_summary", "is_published"])
    _audit_case(case, actor, before, "结案")
    return case


def add_peer_comment(case: AssistanceCase, content: str, *, actor) -> PeerComment:
    if not case.is_published:
        raise ValueError("整改结果尚未公开，不能评议")
    if not content.strip():
        raise ValueError("评议内容不能为空")
    return PeerComment.objects.create(case=case, author=actor, content=content.strip())
