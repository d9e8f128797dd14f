"""Stored signal detection 信号检测: runs, their pair results, and signals with a review workflow.

A run 检测批次 is scoped to a jurisdiction: ``division_code`` holds the GB/T 2260 code prefix of the
scope ("32" for a province, "3201" for a city, a full code for a district, "" nationwide), so
``core.access.scoped`` (``division_code__startswith`` the user's prefix) shows a user the runs and
signals inside their jurisdiction and nothing wider.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from yaojian.adr.models import ReactionTerm
from yaojian.core.models import Division
from yaojian.registry.choices import ProductCategory
from yaojian.registry.models import Product


def scope_name(prefix: str) -> str:
    """检测范围 in words: 全国, or the division whose code the prefix starts."""
    if not prefix:
        return "全国"
    division = Division.objects.select_related("parent__parent").filter(code=prefix.ljust(6, "0")).first()
    return division.full_name if division else prefix


class RunStatus(models.TextChoices):
    DONE = "done", "完成"
    FAILED = "failed", "失败"


class ScopedSignalRecord(models.Model):
    """Carries the scope prefix 辖区代码前缀 that ``core.access.scoped`` filters on."""

    division_code = models.CharField("辖区代码前缀", max_length=6, blank=True, db_index=True)

    class Meta:
        abstract = True


class SignalRun(ScopedSignalRecord):
    """One disproportionality run 一次信号检测 over the reports of a period and scope."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", null=True, blank=True, on_delete=models.SET_NULL
    )
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    duration_s = models.FloatField("用时（秒）", default=0.0)
    date_from = models.DateField("报告日期自")
    date_to = models.DateField("报告日期至")
    category = models.CharField("产品类别", max_length=10, choices=ProductCategory.choices, blank=True)
    strata = models.JSONField("分层", default=list, blank=True)
    criteria = models.JSONField("判定标准")
    prior = models.JSONField("先验超参数", null=True, blank=True)
    n_reports = models.PositiveIntegerField("报告数", default=0)
    n_rows = models.PositiveIntegerField("药品–事件明细行数", default=0)
    n_pairs = models.PositiveIntegerField("组合数", default=0)
    n_flagged = models.PositiveIntegerField("满足标准组合数", default=0)
    n_new_signals = models.PositiveIntegerField("新信号数", default=0)
    status = models.CharField("状态", max_length=8, choices=RunStatus.choices, default=RunStatus.DONE)
    error = models.TextField("失败原因", blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = verbose_name_plural = "信号检测批次"

    def __str__(self):
        return f"第 {self.pk} 次检测（{self.date_from:%Y-%m-%d} 至 {self.date_to:%Y-%m-%d}）"

    def get_absolute_url(self):
        return reverse("signals:signalrun-detail", args=[self.pk])


class PairResult(ScopedSignalRecord):
    """Every measure of one drug–event pair 药品–事件组合 in one run (written in bulk).

    ``drug_key`` is ``product:<id>`` when the drug maps to a registry product, else ``name:<normalised
    name>``; ``event_key`` is ``term:<id>`` for a coded reaction, else ``text:<normalised term>``.
    Non-finite values (χ² with an empty margin) are stored as NULL.
    """

    # Pair results are written by the hundred thousand per run and always read through their run: the one
    # (run, drug_key, event_key) index serves them, so no other column carries an index of its own.
    division_code = models.CharField("辖区代码前缀", max_length=6, blank=True)
    run = models.ForeignKey(
        SignalRun, verbose_name="检测批次", on_delete=models.CASCADE, related_name="results", db_index=False
    )
    drug_key = models.CharField("药品键", max_length=320)
    drug_label = models.CharField("药品", max_length=300)
    product = models.ForeignKey(
        Product, verbose_name="产品", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event_key = models.CharField("事件键", max_length=270)
    event_label = models.CharField("不良事件", max_length=250)
    term = models.ForeignKey(
        ReactionTerm, verbose_name="编码术语", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    n = models.PositiveIntegerField("报告数 N")
    expected = models.FloatField("期望数 E")
    prr = models.FloatField("PRR", null=True)
    prr_chi2 = models.FloatField("χ²", null=True)
    prr_lo = models.FloatField("PRR 95%下限", null=True)
    prr_hi = models.FloatField("PRR 95%上限", null=True)
    ror = models.FloatField("ROR", null=True)
    ror_lo = models.FloatField("ROR025", null=True)
    ror_hi = models.FloatField("ROR975", null=True)
    ic = models.FloatField("IC", null=True)
    ic025 = models.FloatField("IC025", null=True)
    ic975 = models.FloatField("IC975", null=True)
    ebgm = models.FloatField("EBGM", null=True)
    eb05 = models.FloatField("EB05", null=True)
    eb95 = models.FloatField("EB95", null=True)
    flags = models.CharField("满足的方法", max_length=20, blank=True)
    meets_criteria = models.BooleanField("满足判定标准", default=False)
    report_ids = models.JSONField("病例", default=list)  # the N reports behind the pair 病例系列
    series = models.JSONField("季度累计趋势", null=True, blank=True)  # pairs meeting the criteria only

    class Meta:
        ordering = ["-eb05", "-n", "id"]
        verbose_name = verbose_name_plural = "组合检测结果"
        indexes = [models.Index(fields=["run", "drug_key", "event_key"])]

    def __str__(self):
        return f"{self.drug_label} – {self.event_label}"

    def get_absolute_url(self):
        return reverse("signals:pairresult-detail", args=[self.pk])


class SignalStatus(models.TextChoices):
    """Review workflow 信号处置流程: new → assessing → confirmed / refuted / monitoring."""

    NEW = "new", "新信号"
    ASSESSING = "assessing", "评估中"
    CONFIRMED = "confirmed", "已确认"
    REFUTED = "refuted", "已排除"
    MONITORING = "monitoring", "持续监测"


# Allowed moves; a refuted or monitored signal may be reopened for assessment when evidence changes.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    SignalStatus.NEW: (SignalStatus.ASSESSING,),
    SignalStatus.ASSESSING: (SignalStatus.CONFIRMED, SignalStatus.REFUTED, SignalStatus.MONITORING),
    SignalStatus.MONITORING: (SignalStatus.ASSESSING, SignalStatus.CONFIRMED, SignalStatus.REFUTED),
    SignalStatus.REFUTED: (SignalStatus.ASSESSING,),
    SignalStatus.CONFIRMED: (),
}


class Signal(ScopedSignalRecord):
    """A drug–event pair that met the criteria 信号, one per scope and pair, with its review."""

    drug_key = models.CharField("药品键", max_length=320)
    drug_label = models.CharField("药品", max_length=300)
    product = models.ForeignKey(
        Product, verbose_name="产品", null=True, blank=True, on_delete=models.SET_NULL, related_name="signals"
    )
    event_key = models.CharField("事件键", max_length=270)
    event_label = models.CharField("不良事件", max_length=250)
    term = models.ForeignKey(
        ReactionTerm, verbose_name="编码术语", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        "处置状态", max_length=10, choices=SignalStatus.choices, default=SignalStatus.NEW, db_index=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_signals",
    )
    first_run = models.ForeignKey(SignalRun, verbose_name="首次发现", on_delete=models.PROTECT, related_name="+")
    latest_run = models.ForeignKey(SignalRun, verbose_name="最近满足标准", on_delete=models.PROTECT, related_name="+")
    latest_result = models.ForeignKey(
        PairResult, verbose_name="最近结果", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("发现时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "信号"
        constraints = [
            models.UniqueConstraint(fields=["division_code", "drug_key", "event_key"], name="signal_unique_pair")
        ]

    def __str__(self):
        return f"{self.drug_label} – {self.event_label}"

    def get_absolute_url(self):
        return reverse("signals:signal-detail", args=[self.pk])

    @property
    def next_statuses(self) -> list[tuple[str, str]]:
        return [(s, SignalStatus(s).label) for s in TRANSITIONS[self.status]]


class SignalEvent(models.Model):
    """History 处置记录 of a signal: status changes, assignments and notes."""

    signal = models.ForeignKey(Signal, verbose_name="信号", on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField("时间", auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField("原状态", max_length=10, choices=SignalStatus.choices, blank=True)
    to_status = models.CharField("新状态", max_length=10, choices=SignalStatus.choices, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="指派给",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField("说明", blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = verbose_name_plural = "信号处置记录"

    def __str__(self):
        return f"{self.signal_id} {self.from_status}→{self.to_status}"
