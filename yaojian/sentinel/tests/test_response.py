"""The 24-hour response 三同步: tasks, clocks, escalation at exactly 24 h, closing and the handling figures."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yaojian.core.models import AuditRecord
from yaojian.sampling.models import SamplingResult
from yaojian.sentinel import detection, services
from yaojian.sentinel.models import Cluster, Escalation, Layer, ResponseStatus, TaskKind, TaskStatus
from yaojian.sentinel.performance import handling

from .conftest import NOW, make_case

H = datetime.timedelta(hours=1)


def plant(world, start=datetime.date(2025, 7, 1), now=NOW) -> Cluster:
    for n in range(3):
        make_case(world, start + datetime.timedelta(days=n))
    (cluster,) = detection.detect(start + datetime.timedelta(days=2), now=now, layers=(Layer.RULE,)).created
    return cluster


@pytest.mark.django_db
def test_a_cluster_opens_three_assigned_tasks_on_a_24_hour_clock(sites_world):
    cluster = plant(sites_world)
    response = cluster.response
    tasks = {t.kind: t for t in response.tasks.all()}
    assert set(tasks) == set(TaskKind.values)
    assert all(t.due_at == NOW + 24 * H for t in tasks.values()) and response.due_at == NOW + 24 * H
    users = sites_world.users
    assert tasks[TaskKind.VERIFY].assignee == users["adr_analyst"]  # 鼓楼 accounts
    assert tasks[TaskKind.INTERVIEW].assignee == users["district"]
    assert tasks[TaskKind.SAMPLING].assignee == users["inspector"]
    (test,) = tasks[TaskKind.SAMPLING].sampling_tests.all()
    assert (test.batch, test.result, test.sampled_on) == (
        sites_world.batches["b1"],
        SamplingResult.PENDING,
        cluster.detected_on,
    )
    assert AuditRecord.objects.filter(object_type="sentinel.responsetask", action="create").count() == 3
    assert AuditRecord.objects.filter(object_type="sampling.samplingtest", object_id=str(test.pk)).exists()


@pytest.mark.django_db
def test_escalation_at_exactly_24_hours_and_only_once(sites_world):
    cluster = plant(sites_world)
    verify = cluster.response.tasks.get(kind=TaskKind.VERIFY)
    services.complete_task(verify, actor=sites_world.users["adr_analyst"], result="已核实", now=NOW + 2 * H)
    assert services.escalate(now=NOW + 24 * H - datetime.timedelta(seconds=1)) == []
    escalations = services.escalate(now=NOW + 24 * H)
    assert {e.task.kind for e in escalations} == {TaskKind.INTERVIEW, TaskKind.SAMPLING}  # the done task is not
    assert {e.to_division_id for e in escalations} == {"320100"}  # 鼓楼区 → 南京市
    assert all(e.task.escalated_at == NOW + 24 * H for e in escalations)
    assert services.escalate(now=NOW + 30 * H) == []  # escalated once
    assert Escalation.objects.count() == 2
    assert AuditRecord.objects.filter(object_type="sentinel.escalation").count() == 2


@pytest.mark.django_db
def test_closing_needs_all_tasks_and_then_counts_as_handled(sites_world):
    cluster = plant(sites_world)
    response = cluster.response
    analyst = sites_world.users["adr_analyst"]
    with pytest.raises(ValidationError):
        services.close_response(response, actor=analyst, conclusion="confirmed", assessment="结论", now=NOW + 5 * H)
    for task in response.tasks.all():
        services.complete_task(task, actor=sites_world.users["district"], result="完成", now=NOW + 4 * H)
    services.close_response(response, actor=analyst, conclusion="confirmed", assessment="确认", now=NOW + 6 * H)
    response.refresh_from_db()
    cluster.refresh_from_db()
    assert (response.status, response.closed_at, cluster.status) == (ResponseStatus.CLOSED, NOW + 6 * H, "closed")
    figures = handling(Cluster.objects.all())
    assert figures == {"total": 1, "handled": 1, "rate": 1.0, "median_hours": pytest.approx(6.0)}


@pytest.mark.django_db
def test_handling_rate_and_median_over_several_clusters(sites_world):
    closes = {0: 6, 1: 10, 2: 30}  # cluster index → hours to close; a fourth stays open
    clusters = []
    for i in range(4):
        start = datetime.date(2025, 7, 1) + datetime.timedelta(days=10 * i)
        clusters.append(plant(sites_world, start=start, now=NOW + datetime.timedelta(days=10 * i)))
    actor = sites_world.users["district"]
    for i, hours in closes.items():
        cluster = clusters[i]
        for task in cluster.response.tasks.all():
            services.complete_task(task, actor=actor, result="完成", now=cluster.detected_at + H)
        services.close_response(
            cluster.response,
            actor=actor,
            conclusion="not_confirmed",
            assessment="排除",
            now=cluster.detected_at + hours * H,
        )
    figures = handling(Cluster.objects.all())
    assert (figures["total"], figures["handled"], figures["rate"]) == (4, 3, 0.75)
    assert figures["median_hours"] == pytest.approx(10.0)


@pytest.mark.django_db
def test_inspector_completes_only_their_own_task(sites_world):
    cluster = plant(sites_world)
    inspector = sites_world.users["inspector"]
    tasks = {t.kind: t for t in cluster.response.tasks.all()}
    with pytest.raises(PermissionDenied):
        services.complete_task(tasks[TaskKind.INTERVIEW], actor=inspector, result="x", now=NOW)
    with pytest.raises(PermissionDenied):
        services.assign_task(tasks[TaskKind.SAMPLING], actor=inspector, assignee=inspector)
    services.complete_task(tasks[TaskKind.SAMPLING], actor=inspector, result="已抽样送检", now=NOW + H)
    assert cluster.response.tasks.get(kind=TaskKind.SAMPLING).status == TaskStatus.DONE


@pytest.mark.django_db
def test_out_of_area_regulator_may_not_act(sites_world):
    cluster = plant(sites_world)
    task = cluster.response.tasks.first()
    from yaojian.core.testing import make_user

    wuxi = make_user("wuxi", "regulator", "320200")
    with pytest.raises(PermissionDenied):
        services.complete_task(task, actor=wuxi, result="x", now=NOW)
    with pytest.raises(PermissionDenied):
        services.complete_task(task, actor=sites_world.users["enterprise"], result="x", now=NOW)
