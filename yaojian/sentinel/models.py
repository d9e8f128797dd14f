"""Sentinel sites 哨点, clustered signals 聚集性信号 and the 24-hour response 三同步.

A sentinel report is an ``adr.AdrReport`` with ``source="sentinel"`` filed by the site's enterprise
(``reporting_enterprise``); no copy is kept here. A cluster groups ADR reports of one product (and,
where known, one batch) concentrated in time and area, found by the rule layer (药品群体不良事件) or the
space-time permutation scan; each cluster opens one response with three parallel tasks, each on a
24-hour clock from detection.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from yaojian.adr.models import AdrReport
from yaojian.core.models import Division, RegulatedModel
from yaojian.registry.choices import EnterpriseType
from yaojian.registry.models import Batch, Enterprise, Product
from yaojian.sampling.models import SamplingTest


class SiteKind(models.TextChoices):
    PHARMACY = "pharmacy", "零售药店"
    CLINIC = "clinic", "诊所"
    AESTHETICS = "aesthetics", "医疗美容机构"
    HOSPITAL = "hospital", "医疗机构"


# The enterprise types a site of each kind may be (零售连锁 counts as a pharmacy).
SITE_ENTERPRISE_TYPES = {
    SiteKind.PHARMACY: {EnterpriseType.RETAIL_PHARMACY, EnterpriseType.RETAIL_CHAIN},
    SiteKind.CLINIC: {EnterpriseType.CLINIC},
    SiteKind.AESTHETICS: {EnterpriseType.AESTHETICS},
    SiteKind.HOSPITAL: {EnterpriseType.MEDICAL_INSTITUTION},
}


class WatchedGroup(models.TextChoices):
    """Product groups a sentinel watches 重点监测品种."""

    DRUG_DEVICE = "drug_device", "药械组合"
    TCM_INJECTION = "tcm_injection", "中药注射剂"
    PAEDIATRIC = "paediatric", "儿童用药"
    ELDERLY_CHRONIC = "elderly_chronic", "老年慢病用药"


class SentinelSite(RegulatedModel):
    """Sentinel site 哨点: a registered pharmacy, clinic, medical-aesthetics institution or hospital."""

    enterprise = models.OneToOneField(
        Enterprise, verbose_name="哨点单位", on_delete=models.PROTECT, related_name="sentinel_site"
    )
    kind = models.CharField("哨点类型", max_length=12, choices=SiteKind.choices)
    watched_groups = models.JSONField("重点监测品种", default=list)
    active_from = models.DateField("启用日期")
    active_to = models.DateField("停用日期", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        ordering = ["enterprise__name"]
        verbose_name = verbose_name_plural = "哨点"

    def __str__(self):
        return f"哨点 {self.enterprise.name}"

    def get_absolute_url(self):
        return reverse("sentinel:sentinelsite-detail", args=[self.pk])

    def clean(self):
        if self.enterprise_id and self.kind:
            allowed = SITE_ENTERPRISE_TYPES[SiteKind(self.kind)]
            if self.enterprise.type not in allowed:
                raise ValidationError(
                    {"enterprise": f"{self.get_kind_display()}哨点须为{'、'.join(allowed_labels(allowed))}"}
                )
        unknown = set(self.watched_groups or ()) - set(WatchedGroup.values)
        if unknown or not self.watched_groups:
            raise ValidationError({"watched_groups": "请选择重点监测品种"})
        if self.active_to and self.active_to < self.active_from:
            raise ValidationError({"active_to": "停用日期早于启用日期"})

    @property
    def watched_groups_display(self) -> str:
        labels = dict(WatchedGroup.choices)
        return "、".join(labels.get(code, code) for code in self.watched_groups)


def allowed_labels(types) -> list[str]:
    labels = dict(EnterpriseType.choices)
    return sorted(labels[t] for t in types)


class SentinelConfig(models.Model):
    """Targets and thresholds 目标与阈值 (one row; defaults documented on each field)."""

    annual_report_target = models.PositiveIntegerField("年度有效报告目标（份）", default=6000)
    handled_target_pct = models.PositiveSmallIntegerField("信号处置率目标（%）", default=100)
    timeliness_days = models.PositiveSmallIntegerField("即销即报时限（天）", default=7)
    silence_days = models.PositiveSmallIntegerField("沉默哨点判定（天无报告）", default=30)
    rule_min_cases = models.PositiveSmallIntegerField("群体事件：同品种最少病例数", default=3)
    rule_window_days = models.PositiveSmallIntegerField("群体事件：时间窗（天，含当天）", default=7)
    batch_min_cases = models.PositiveSmallIntegerField("同批号：最少病例数（同一地市）", default=3)
    batch_window_days = models.PositiveSmallIntegerField("同批号：时间窗（天，含当天）", default=7)
    scan_baseline_days = models.PositiveSmallIntegerField("时空扫描：基线天数", default=90)
    scan_max_days = models.PositiveSmallIntegerField("时空扫描：最长聚集天数", default=7)
    # SaTScan's default spatial limit is half the locations; a group event is local, so circles stop at 10
    # districts (0 restores the half-of-locations limit).
    scan_max_zones = models.PositiveSmallIntegerField("时空扫描：最多区县数（0 为一半）", default=10)
    scan_replications = models.PositiveIntegerField("时空扫描：蒙特卡罗次数", default=999)
    scan_alpha = models.FloatField("时空扫描：显著性水平 α", default=0.01)
    scan_min_cases = models.PositiveSmallIntegerField("时空扫描：窗口内最少病例数", default=3)
    response_hours = models.PositiveSmallIntegerField("处置时限（小时）", default=24)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "哨点监测参数"

    def __str__(self):
        return "哨点监测参数"

    @classmethod
    def current(cls) -> "SentinelConfig":
        """The saved parameters, or the documented defaults when none were saved."""
        return cls.objects.order_by("-pk").first() or cls()


_DIVISION_NAMES: dict[str, str] = {}


def division_name(code: str) -> str:
    """A division's name; GB/T 2260 names are fixed once loaded, so lists and exports look each up once."""
    if code not in _DIVISION_NAMES:
        name = Division.objects.filter(code=code).values_list("name", flat=True).first()
        if name is None:
            return code
        _DIVISION_NAMES[code] = name
    return _DIVISION_NAMES[code]


class Layer(models.TextChoices):
    RULE = "rule", "规则（群体不良事件）"
    SCAN = "scan", "时空扫描统计"


class ClusterStatus(models.TextChoices):
    OPEN = "open", "处置中"
    CLOSED = "closed", "已关闭"


class Cluster(RegulatedModel):
    """Clustered signal 聚集性信号: cases of one product (and batch) in one area and period.

    ``key`` identifies what is being watched (layer, rule, product, batch, area) so that a daily
    re-run updates the same signal as it grows instead of adding another.
    """

    key = models.CharField("信号键", max_length=120, db_index=True, editable=False)
    layer = models.CharField("检测层", max_length=8, choices=Layer.choices)
    rule = models.CharField("规则", max_length=20)
    product = models.ForeignKey(Product, verbose_name="产品", on_delete=models.PROTECT, related_name="clusters")
    batch = models.ForeignKey(
        Batch, verbose_name="批次", null=True, blank=True, on_delete=models.PROTECT, related_name="clusters"
    )
    districts = models.JSONField("涉及区县", default=list)
    first_day = models.DateField("起始日期")
    last_day = models.DateField("截止日期")
    detected_on = models.DateField("检出日期", db_index=True)
    detected_at = models.DateTimeField("检出时间")
    updated_on = models.DateField("最近更新日期")
    cases = models.ManyToManyField(AdrReport, verbose_name="病例", related_name="clusters")
    case_count = models.PositiveIntegerField("病例数")
    expected = models.FloatField("期望病例数", null=True, blank=True)
    llr = models.FloatField("对数似然比", null=True, blank=True)
    p_value = models.FloatField("P 值", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=8, choices=ClusterStatus.choices, default=ClusterStatus.OPEN, db_index=True
    )

    scope_enterprise_fields = ("product__holder_id",)

    class Meta:
        ordering = ["-detected_on", "-pk"]
        verbose_name = verbose_name_plural = "聚集性信号"

    def __str__(self):
        return f"聚集性信号 #{self.pk} {self.product.name}"

    def get_absolute_url(self):
        return reverse("sentinel:cluster-detail", args=[self.pk])

    def resolve_division_code(self) -> str:
        return self.division_code  # the area's code, set by detection

    @property
    def area_display(self) -> str:
        return "、".join(division_name(code) for code in self.districts)


class Conclusion(models.TextChoices):
    CONFIRMED = "confirmed", "确认群体不良事件"
    QUALITY = "quality", "确认为质量问题"
    NOT_CONFIRMED = "not_confirmed", "排除（偶合/非聚集）"
    CONTINUE = "continue", "继续监测"


class ResponseStatus(models.TextChoices):
    OPEN = "open", "处置中"
    CLOSED = "closed", "已关闭"


class Response(RegulatedModel):
    """Response 应急处置 (三同步) to one cluster, closed with an assessment 结案评估."""

    cluster = models.OneToOneField(
        Cluster, verbose_name="聚集性信号", on_delete=models.PROTECT, related_name="response"
    )
    opened_at = models.DateTimeField("启动时间")
    due_at = models.DateTimeField("处置时限")
    status = models.CharField(
        "状态", max_length=8, choices=ResponseStatus.choices, default=ResponseStatus.OPEN, db_index=True
    )
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    conclusion = models.CharField("评估结论", max_length=16, choices=Conclusion.choices, blank=True)
    assessment = models.TextField("结案评估", blank=True)

    scope_enterprise_fields = ("cluster__product__holder_id",)

    class Meta:
        ordering = ["status", "due_at"]
        verbose_name = verbose_name_plural = "应急处置"

    def __str__(self):
        return f"应急处置 #{self.pk}"

    def get_absolute_url(self):
        return reverse("sentinel:response-detail", args=[self.pk])

    def resolve_division_code(self) -> str:
        return self.cluster.division_code


class TaskKind(models.TextChoices):
    VERIFY = "verify", "信号核查"
    INTERVIEW = "interview", "企业约谈"
    SAMPLING = "sampling", "产品抽检"


class TaskStatus(models.TextChoices):
    OPEN = "open", "待办"
    DONE = "done", "已完成"


class ResponseTask(RegulatedModel):
    """One of the three parallel tasks 三同步任务, on a clock from the cluster's detection."""

    response = models.ForeignKey(Response, verbose_name="应急处置", on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField("任务", max_length=10, choices=TaskKind.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="承办人", null=True, blank=True, on_delete=models.PROTECT
    )
    due_at = models.DateTimeField("完成时限", db_index=True)
    status = models.CharField("状态", max_length=6, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    escalated_at = models.DateTimeField("升级时间", null=True, blank=True)
    result = models.TextField("办理结果", blank=True)
    sampling_tests = models.ManyToManyField(SamplingTest, verbose_name="抽检任务", blank=True)

    scope_enterprise_fields = ("response__cluster__product__holder_id",)

    class Meta:
        ordering = ["response", "kind"]
        constraints = [models.UniqueConstraint(fields=["response", "kind"], name="responsetask_one_per_kind")]
        verbose_name = verbose_name_plural = "处置任务"

    def __str__(self):
        return f"{self.get_kind_display()}（处置 #{self.response_id}）"

    def get_absolute_url(self):
        return self.response.get_absolute_url()

    def resolve_division_code(self) -> str:
        return self.response.division_code


class Escalation(RegulatedModel):
    """Escalation 超时升级: an overdue task reported to the next-level jurisdiction 上一级."""

    task = models.ForeignKey(ResponseTask, verbose_name="任务", on_delete=models.CASCADE, related_name="escalations")
    escalated_at = models.DateTimeField("升级时间")
    to_division = models.ForeignKey(
        Division, verbose_name="上报至", on_delete=models.PROTECT, to_field="code", related_name="+"
    )
    note = models.CharField("说明", max_length=200)

    scope_enterprise_fields = ("task__response__cluster__product__holder_id",)

    class Meta:
        ordering = ["-escalated_at"]
        verbose_name = verbose_name_plural = "超时升级"

    def __str__(self):
        return f"升级至{self.to_division.name}：{self.task}"

    def resolve_division_code(self) -> str:
        return self.task.division_code
