"""Pages 页面: sentinel sites and their performance, targets, clusters, the response board 应急处置看板.

Every page asks ``core.access`` for the role and narrows rows with ``scoped``; task actions go through
``sentinel.services`` with the logged-in user as actor. The current time is read once per request
(``timezone.now``) and handed to the services, which never read the clock themselves.
"""

import datetime
import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from yaojian.adr.models import AdrReport
from yaojian.core import access, audit
from yaojian.core.choices import AuditAction
from yaojian.core.models import Division
from yaojian.core.views_generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ScopedMixin,
)

from . import forms, performance, services
from .filtersets import ClusterFilterSet, SentinelSiteFilterSet
from .models import (
    Cluster,
    Escalation,
    Response,
    ResponseStatus,
    ResponseTask,
    SentinelConfig,
    SentinelSite,
    TaskKind,
    TaskStatus,
)
from .tables import ClusterTable, SentinelSiteTable


class SentinelSiteListView(ObjectListView):
    model = SentinelSite
    filterset_class = SentinelSiteFilterSet
    table_class = SentinelSiteTable
    select_related = ("enterprise", "enterprise__division")


class SentinelSiteDetailView(ObjectDetailView):
    model = SentinelSite
    select_related = ("enterprise",)
    fields = ("enterprise", "kind", ("watched_groups_display", "重点监测品种"), "active_from", "active_to", "note")


class SentinelSiteEditView(ObjectEditView):
    model = SentinelSite
    form_class = forms.SentinelSiteForm


class SentinelSiteDeleteView(ObjectDeleteView):
    model = SentinelSite


def _date_param(request, name, default):
    try:
        return datetime.date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return default


class PerformanceView(ScopedMixin, View):
    """哨点绩效: volume, timeliness (on-time rate, median days) and silence per site, for a period."""

    model = SentinelSite

    def get(self, request):
        today = timezone.localdate()
        end = _date_param(request, "end", today)
        start = _date_param(request, "start", end.replace(month=1, day=1))
        config = SentinelConfig.current()
        sites = access.scoped(SentinelSite.objects.all(), request.user)
        if request.GET.get("kind"):
            sites = sites.filter(kind=request.GET["kind"])
        rows = performance.site_performance(sites, start, end, config)
        if request.GET.get("silent"):
            rows = [r for r in rows if r.silent]
        context = {
            "rows": rows,
            "start": start,
            "end": end,
            "config": config,
            "silent_only": bool(request.GET.get("silent")),
        }
        context["kinds"] = SentinelSite._meta.get_field("kind").choices
        context["kind"] = request.GET.get("kind", "")
        return render(request, "sentinel/performance.html", context)


class TargetsView(ScopedMixin, View):
    """年度目标 cards, an htmx fragment for the dashboard (``?year=``; default this year)."""

    model = Cluster

    def get(self, request):
        try:
            year = int(request.GET.get("year", ""))
        except ValueError:
            year = timezone.localdate().year
        config = SentinelConfig.current()
        reports = access.scoped(performance.valid_reports(), request.user)
        if not access.has_perm(request.user, AdrReport):
            reports = reports.model.objects.none()
        clusters = access.scoped(Cluster.objects.all(), request.user)
        figures = performance.targets(reports, clusters, year, config)
        return render(request, "sentinel/_targets.html", {"t": figures})


class ClusterListView(ObjectListView):
    model = Cluster
    filterset_class = ClusterFilterSet
    table_class = ClusterTable
    select_related = ("product", "batch")

    def get_add_url(self):
        return None  # clusters come from detection only


def heat_grid(cluster: Cluster, cases) -> dict:
    """Day × district counts of the cluster's cases for the ECharts heat map 热力网格."""
    names = dict(Division.objects.filter(code__in=cluster.districts).values_list("code", "name"))
    days = [
        cluster.first_day + datetime.timedelta(days=i) for i in range((cluster.last_day - cluster.first_day).days + 1)
    ]
    day_index = {d: i for i, d in enumerate(days)}
    district_index = {code: i for i, code in enumerate(cluster.districts)}
    counts: dict[tuple[int, int], int] = {}
    for case in cases:
        key = (day_index.get(case.event_day), district_index.get(case.area))
        if None not in key:
            counts[key] = counts.get(key, 0) + 1
    return {
        "days": [d.isoformat() for d in days],
        "districts": [names.get(code, code) for code in cluster.districts],
        "cells": [[x, y, n] for (x, y), n in sorted(counts.items())],
    }


class ClusterDetailView(ScopedMixin, View):
    """聚集性信号详情: cases (patient data masked), area, period, strength, day × district heat grid."""

    model = Cluster

    def get(self, request, pk):
        cluster = access.get_scoped_or_404(
            Cluster.objects.select_related("product", "batch", "product__holder"), request.user, pk=pk
        )
        cases = list(_annotated_cases(cluster).order_by("reported_on", "pk"))
        response = Response.objects.filter(cluster=cluster).first()
        context = {
            "cluster": cluster,
            "cases": cases,
            "grid_json": json.dumps(heat_grid(cluster, cases), ensure_ascii=False),
            "response": response,
            "can_read_response": access.has_perm(request.user, Response),
        }
        return render(request, "sentinel/cluster_detail.html", context)


def _annotated_cases(cluster: Cluster):
    """The cluster's cases with their event day and area, as detection saw them."""
    return cluster.cases.select_related("reporting_enterprise", "batch").annotate(
        event_day=Coalesce("onset_on", "received_on", "reported_on"),
        area=Coalesce(F("reporting_enterprise__division_id"), F("division_code")),
    )


def countdown_text(seconds: int) -> str:
    """剩余 HH:MM:SS, or 已超时 HH:MM:SS once the clock has run out (as sentinel.js writes it)."""
    hours, rest = divmod(abs(seconds), 3600)
    text = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"已超时 {text}" if seconds <= 0 else f"剩余 {text}"


TASK_ORDER = {kind: i for i, kind in enumerate(TaskKind.values)}  # 核查, 约谈, 抽检


def _task_rows(tasks, now):
    rows = []
    for task in sorted(tasks, key=lambda t: TASK_ORDER[t.kind]):
        remaining = int((task.due_at - now).total_seconds())
        rows.append(
            {
                "task": task,
                "remaining": remaining,
                "countdown": countdown_text(remaining),
                "overdue": task.status == TaskStatus.OPEN and remaining <= 0,
            }
        )
    return rows


class BoardView(ScopedMixin, View):
    """应急处置看板: open responses with their three tasks and countdowns; handling rate and median time."""

    model = Response

    def get(self, request):
        now = timezone.now()
        responses = access.scoped(Response.objects.all(), request.user).select_related(
            "cluster__product", "cluster__batch"
        )
        open_ = responses.filter(status=ResponseStatus.OPEN).order_by("due_at").prefetch_related("tasks__assignee")
        closed = responses.filter(status=ResponseStatus.CLOSED).order_by("-closed_at")[:10]
        board = [{"response": r, "tasks": _task_rows(r.tasks.all(), now)} for r in open_]
        clusters = access.scoped(Cluster.objects.all(), request.user)
        escalations = access.scoped(Escalation.objects.all(), request.user).select_related("to_division", "task")[:10]
        context = {
            "board": board,
            "closed": closed,
            "figures": performance.handling(clusters),
            "escalations": escalations,
            "now": now,
        }
        return render(request, "sentinel/board.html", context)


class ResponseDetailView(ScopedMixin, View):
    """One response: its tasks with countdowns and actions (complete, reassign), escalations, closing."""

    model = Response

    def get_response(self, pk):
        return access.get_scoped_or_404(
            Response.objects.select_related("cluster__product", "cluster__batch"), self.request.user, pk=pk
        )

    def get(self, request, pk):
        return self.render_page(self.get_response(pk))

    def post(self, request, pk):
        response = self.get_response(pk)
        user = request.user
        if not access.has_perm(user, ResponseTask, access.CHANGE):
            raise PermissionDenied("无此操作权限")
        action = request.POST.get("action")
        now = timezone.now()
        try:
            if action == "complete":
                form = forms.CompleteTaskForm(request.POST)
                if form.is_valid():
                    task = self.get_task(response, form.cleaned_data["task"])
                    services.complete_task(task, actor=user, result=form.cleaned_data["result"], now=now)
                    messages.success(request, f"已完成：{task.get_kind_display()}")
                    return redirect(response.get_absolute_url())
            elif action == "assign":
                form = forms.AssignTaskForm(request.POST, division_code=response.division_code)
                if form.is_valid():
                    task = self.get_task(response, form.cleaned_data["task"])
                    services.assign_task(task, actor=user, assignee=form.cleaned_data["assignee"])
                    messages.success(request, f"已改派：{task.get_kind_display()}")
                    return redirect(response.get_absolute_url())
            elif action == "close":
                if not access.has_perm(user, Response, access.CHANGE):
                    raise PermissionDenied("无此操作权限")
                form = forms.CloseForm(request.POST)
                if form.is_valid():
                    services.close_response(response, actor=user, now=now, **form.cleaned_data)
                    messages.success(request, "已结案")
                    return redirect(response.get_absolute_url())
            else:
                return self.render_page(response, error="未知操作", status=400)
        except ValidationError as exc:
            return self.render_page(response, error="；".join(exc.messages), status=400)
        return self.render_page(response, error="请检查填写内容", status=400)

    def get_task(self, response, task_pk):
        try:
            return response.tasks.select_related("response__cluster").get(pk=task_pk)
        except ResponseTask.DoesNotExist:
            raise ValidationError("任务不存在") from None

    def render_page(self, response, error="", status=200):
        now = timezone.now()
        user = self.request.user
        can_change = access.has_perm(user, ResponseTask, access.CHANGE)
        tasks = _task_rows(response.tasks.select_related("assignee").prefetch_related("sampling_tests"), now)
        for row in tasks:
            task = row["task"]
            row["can_complete"] = (
                can_change
                and task.status == TaskStatus.OPEN
                and response.status == ResponseStatus.OPEN
                and (user.role != "inspector" or task.assignee_id == user.pk)
            )
            row["can_assign"] = can_change and user.role != "inspector" and response.status == ResponseStatus.OPEN
        context = {
            "response": response,
            "cluster": response.cluster,
            "tasks": tasks,
            "escalations": Escalation.objects.filter(task__response=response).select_related("to_division", "task"),
            "assign_form": forms.AssignTaskForm(division_code=response.division_code),
            "close_form": forms.CloseForm() if access.has_perm(user, Response, access.CHANGE) else None,
            "can_close": response.status == ResponseStatus.OPEN
            and not any(r["task"].status != TaskStatus.DONE for r in tasks),
            "error": error,
        }
        return render(self.request, "sentinel/response_detail.html", context, status=status)


class ConfigView(ScopedMixin, View):
    """哨点监测参数: everyone who may read them sees them; administrators save a new version (audited)."""

    model = SentinelConfig

    def get(self, request):
        return self.render_page(forms.ConfigForm(instance=SentinelConfig.current()))

    def post(self, request):
        if not self.can(access.CHANGE):
            raise PermissionDenied("仅系统管理员可修改哨点监测参数")
        form = forms.ConfigForm(request.POST)
        if not form.is_valid():
            return self.render_page(form, status=400)
        with transaction.atomic():
            config = form.save()
            audit.record(
                actor=request.user,
                action=AuditAction.CREATE,
                object_type="sentinel.sentinelconfig",
                object_id=config.pk,
                object_repr=str(config),
                after=audit.snapshot(config),
            )
        messages.success(request, "已保存哨点监测参数")
        return redirect("sentinel:config")

    def render_page(self, form, status=200):
        if not self.can(access.CHANGE):
            for field in form.fields.values():
                field.disabled = True
        return render(
            self.request, "sentinel/config.html", {"form": form, "can_change": self.can(access.CHANGE)}, status=status
        )
