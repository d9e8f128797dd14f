"""The 24-hour response 三同步 write path: open, assign, complete, escalate, close — each audited.

Every function takes the acting user (``None`` for the scheduled jobs) and the current time ``now``,
so the clocks are tested deterministically. Writes go through ``core.services`` (scope check and audit
record in the same transaction).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from yaojian.core import access, services
from yaojian.core.choices import Role
from yaojian.core.models import Division, User
from yaojian.sampling.models import SamplingKind, SamplingResult, SamplingTest

from .models import (
    Cluster,
    ClusterStatus,
    Escalation,
    Response,
    ResponseStatus,
    ResponseTask,
    SentinelConfig,
    TaskKind,
    TaskStatus,
)

# Who takes each task by default (the first role with an account in or above the area).
TASK_ROLES = {
    TaskKind.VERIFY: (Role.ADR_ANALYST, Role.REGULATOR),
    TaskKind.INTERVIEW: (Role.REGULATOR,),
    TaskKind.SAMPLING: (Role.INSPECTOR, Role.REGULATOR),
}


def _upward(code: str) -> list[str]:
    """The division and the codes above it, nearest first (district, city, province)."""
    return list(dict.fromkeys([code, code[:4] + "00", code[:2] + "0000"]))


def default_assignee(division_code: str, kind: str) -> User | None:
    chain = _upward(division_code)
    for role in TASK_ROLES[kind]:
        users = User.objects.filter(role=role, is_active=True, division_id__in=chain).order_by("pk")
        best = min(users, key=lambda u: chain.index(u.division_id), default=None)
        if best is not None:
            return best
    return None


def _sampling_tests(cluster: Cluster, detected_on: datetime.date, actor) -> list[SamplingTest]:
    """Pending sampling tests 抽检任务 for the implicated batches (or the product when no batch is known).

    SamplingTest has no "planned" status: a test is created with result 检验中 (pending), sampled_on the
    detection day, at the product's manufacturer (or holder).
    """
    product = cluster.product
    batch_ids = (
        {cluster.batch_id}
        if cluster.batch_id
        else set(cluster.cases.filter(batch__isnull=False).values_list("batch_id", flat=True))
    )
    enterprise = product.manufacturer or product.holder
    tests = []
    for n, batch_id in enumerate(sorted(batch_ids) or [None], start=1):
        tests.append(
            services.create_record(
                SamplingTest,
                actor=actor,
                number=f"JJ-{cluster.pk}-{n}",
                enterprise=enterprise,
                product=product,
                batch_id=batch_id,
                kind=SamplingKind.SUPERVISORY,
                sampled_on=detected_on,
                result=SamplingResult.PENDING,
            )
        )
    return tests


@transaction.atomic
def open_response(cluster: Cluster, *, actor, config: SentinelConfig | None = None) -> Response:
    """Start the three parallel tasks, each due ``response_hours`` (24) after the cluster's detection."""
    config = config or SentinelConfig.current()
    due = cluster.detected_at + datetime.timedelta(hours=config.response_hours)
    response = services.create_record(
        Response, actor=actor, cluster=cluster, opened_at=cluster.detected_at, due_at=due, status=ResponseStatus.OPEN
    )
    for kind in TaskKind:
        task = services.create_record(
            ResponseTask,
            actor=actor,
            response=response,
            kind=kind,
            assignee=default_assignee(cluster.division_code, kind),
            due_at=due,
        )
        if kind == TaskKind.SAMPLING:
            task.sampling_tests.set(_sampling_tests(cluster, cluster.detected_on, actor))
    return response


def _may_work_on(actor, task: ResponseTask) -> None:
    """Writers of the area handle any task; an inspector only the tasks assigned to them."""
    if actor is None:
        return
    if not access.has_perm(actor, ResponseTask, access.CHANGE) or not access.can_act_on(actor, task, access.CHANGE):
        raise PermissionDenied("无此操作权限")
    if actor.role == Role.INSPECTOR and task.assignee_id != actor.pk:
        raise PermissionDenied("只能办理分配给本人的任务")


def complete_task(task: ResponseTask, *, actor, result: str, now: datetime.datetime) -> ResponseTask:
    _may_work_on(actor, task)
    if task.status == TaskStatus.DONE or task.response.status == ResponseStatus.CLOSED:
        raise ValidationError("任务已完成或处置已关闭")
    if not result.strip():
        raise ValidationError("请填写办理结果")
    return services.update_record(task, actor=actor, status=TaskStatus.DONE, done_at=now, result=result.strip())


def assign_task(task: ResponseTask, *, actor, assignee: User) -> ResponseTask:
    if actor is not None and actor.role == Role.INSPECTOR:
        raise PermissionDenied("检查员不能改派任务")
    _may_work_on(actor, task)
    return services.update_record(task, actor=actor, assignee=assignee)


@transaction.atomic
def close_response(response: Response, *, actor, conclusion: str, assessment: str, now: datetime.datetime) -> Response:
    """Close with the assessment 结案评估 once all three tasks are done; the cluster closes with it."""
    if response.status == ResponseStatus.CLOSED:
        raise ValidationError("处置已关闭")
    if response.tasks.exclude(status=TaskStatus.DONE).exists():
        raise ValidationError("三项任务全部完成后方可结案")
    if not assessment.strip():
        raise ValidationError("请填写结案评估")
    services.update_record(
        response,
        actor=actor,
        status=ResponseStatus.CLOSED,
        closed_at=now,
        conclusion=conclusion,
        assessment=assessment.strip(),
    )
    services.update_record(response.cluster, actor=actor, status=ClusterStatus.CLOSED)
    return response


def superior(division_code: str) -> Division:
    """The next-level jurisdiction 上一级 (a province answers for itself)."""
    division = Division.objects.select_related("parent").get(code=division_code)
    return division.parent or division


@transaction.atomic
def escalate(*, now: datetime.datetime, actor=None) -> list[Escalation]:
    """Mark every open task whose clock has run out (due_at ≤ now: at exactly 24 h) as escalated, once,
    and report it to the next-level jurisdiction."""
    overdue = ResponseTask.objects.filter(
        status=TaskStatus.OPEN, escalated_at__isnull=True, due_at__lte=now, response__status=ResponseStatus.OPEN
    ).select_related("response__cluster__product")
    escalations = []
    for task in overdue:
        services.update_record(task, actor=actor, escalated_at=now)
        to = superior(task.division_code)
        escalations.append(
            services.create_record(
                Escalation,
                actor=actor,
                task=task,
                escalated_at=now,
                to_division=to,
                note=f"{task.get_kind_display()}超过{_hours(task)}小时未完成，报{to.name}督办",
            )
        )
    return escalations


def _hours(task: ResponseTask) -> int:
    return round((task.due_at - task.response.cluster.detected_at).total_seconds() / 3600)
