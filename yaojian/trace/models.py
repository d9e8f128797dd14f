"""Trace leads 追溯线索: what the anomaly scans found, queued for handling (assignment, steps, outcome).

Events themselves live in the columnar store (Parquet), not here; a lead keeps the evidence it was raised on.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from yaojian.core.models import VersionedParameters
from yaojian.registry.models import Enterprise

from .anomalies import KIND_LABELS


class LeadKind(models.TextChoices):
    DUPLICATE_SALE = "duplicate_sale", KIND_LABELS["duplicate_sale"]
    UNRECEIVED_SALE = "unreceived_sale", KIND_LABELS["unreceived_sale"]
    UNLICENSED_RECEIVER = "unlicensed_receiver", KIND_LABELS["unlicensed_receiver"]
    EXPIRED_SALE = "expired_sale", KIND_LABELS["expired_sale"]
    DESTROYED_REAPPEARS = "destroyed_reappears", KIND_LABELS["destroyed_reappears"]
    IMPOSSIBLE_TRANSIT = "impossible_transit", KIND_LABELS["impossible_transit"]
    UNUSUAL_VOLUME = "unusual_volume", KIND_LABELS["unusual_volume"]


class LeadStatus(models.TextChoices):
    NEW = "new", "待分派"
    ASSIGNED = "assigned", "已分派"
    INVESTIGATING = "investigating", "核查中"
    CONFIRMED = "confirmed", "已查实"
    DISMISSED = "dismissed", "已排除"


CLOSED_STATUSES = (LeadStatus.CONFIRMED, LeadStatus.DISMISSED)


class TraceLead(models.Model):
    """A trace lead 追溯线索 about one code and one party, scoped like the regulated records (by division)."""

    division_code = models.CharField("行政区划代码", max_length=6, db_index=True)
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="涉及企业",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="trace_leads",
    )
    kind = models.CharField("线索类型", max_length=24, choices=LeadKind.choices, db_index=True)
    code = models.CharField("追溯码/产品标识", max_length=200, db_index=True)
    party = models.CharField("涉及主体", max_length=120, blank=True)
    other_party = models.CharField("关联主体", max_length=120, blank=True)
    product_code = models.CharField("药品标识码", max_length=20, blank=True)
    found_at = models.DateTimeField("发生时间", db_index=True)  # when the anomalous event happened
    status = models.CharField(
        "处理状态", max_length=14, choices=LeadStatus.choices, default=LeadStatus.NEW, db_index=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="承办人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="trace_leads",
    )
    evidence = models.JSONField("证据", default=dict)
    outcome = models.TextField("处理结果", blank=True)
    # Same kind + code + party (+ week for volumes) → same key, so a re-scan adds nothing (see anomalies.lead_key).
    key = models.CharField("线索指纹", max_length=40, unique=True)
    last_scanned_at = models.DateTimeField("最近扫描时间")
    created_at = models.DateTimeField("发现时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_enterprise_fields = ("enterprise_id",)

    class Meta:
        ordering = ["-found_at", "-pk"]
        verbose_name = verbose_name_plural = "追溯线索"

    def __str__(self):
        return f"{self.get_kind_display()} {self.code}"

    def get_absolute_url(self):
        return reverse("trace:tracelead-detail", args=[self.pk])

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class TraceLeadStep(models.Model):
    """A handling step 处理记录 of a lead: assignment, investigation notes, the closing decision."""

    lead = models.ForeignKey(TraceLead, verbose_name="线索", on_delete=models.CASCADE, related_name="steps")
    status = models.CharField("处理后状态", max_length=14, choices=LeadStatus.choices)
    note = models.TextField("说明", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name = verbose_name_plural = "线索处理记录"

    def __str__(self):
        return f"{self.lead_id} {self.get_status_display()}"


class TraceEvent(models.Model):
    """Trace events 追溯事件 — a permission marker only: the events live in the Parquet store (trace/store.py), so
    this model has no table; it names the kind of record for core.access (``trace.traceevent``) and the menu."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = verbose_name_plural = "追溯事件"

    def __str__(self):
        return str(self._meta.verbose_name)


class ThresholdConfig(VersionedParameters):
    """A version of the anomaly scans' thresholds 线索阈值版本 (speed, volumes); one is active, each lead's evidence
    names the version it was found with. Values and defaults: :class:`yaojian.trace.anomalies.Thresholds`."""

    class Meta(VersionedParameters.Meta):
        verbose_name = verbose_name_plural = "追溯线索阈值"

    def __str__(self):
        return f"追溯线索阈值 v{self.version}"
