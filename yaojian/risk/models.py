"""Risk portrait 风险画像: versioned model parameters, scores with their factors, level changes."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from yaojian.core.models import VersionedParameters
from yaojian.registry.models import Enterprise, Product


class EnterpriseRecord(models.Model):
    """A derived record about one enterprise, scoped like the regulated records (by its division)."""

    division_code = models.CharField("行政区划代码", max_length=6, db_index=True)

    scope_enterprise_fields = ("enterprise_id",)

    class Meta:
        abstract = True


class SupervisionLevel(models.IntegerChoices):
    LOW = 1, "一级（低风险）"
    MODERATE = 2, "二级（一般风险）"
    ELEVATED = 3, "三级（较高风险）"
    HIGH = 4, "四级（高风险）"


class RiskModelConfig(VersionedParameters):
    """A version of the risk-model parameters 风险模型参数版本. Exactly one is active."""

    class Meta(VersionedParameters.Meta):
        verbose_name = verbose_name_plural = "风险模型参数"

    def __str__(self):
        return f"风险模型 v{self.version}"


class RiskAssessment(EnterpriseRecord):
    """One risk score 风险评分 of an enterprise as of a date, with its factor contributions.

    A row is written only when the score or level changes, so the history is the
    sequence of changes and stays small at nightly recomputation.
    """

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="risk_assessments"
    )
    as_of = models.DateField("评估基准日", db_index=True)
    config_version = models.PositiveIntegerField("参数版本")
    intrinsic_score = models.FloatField("固有风险")
    compliance_score = models.FloatField("合规风险")
    score = models.FloatField("综合风险", db_index=True)
    level = models.PositiveSmallIntegerField("监管级别", choices=SupervisionLevel.choices, db_index=True)
    inspection_interval_months = models.PositiveSmallIntegerField("检查频次（月）")
    factors = models.JSONField("风险因素")
    last_inspected_on = models.DateField("最近检查日期", null=True, blank=True)
    next_inspection_due = models.DateField("下次检查应于", db_index=True)
    is_current = models.BooleanField("当前", default=True, db_index=True)
    computed_at = models.DateTimeField("计算时间", auto_now_add=True)

    class Meta:
        ordering = ["-as_of", "-id"]
        verbose_name = verbose_name_plural = "风险评估"
        indexes = [models.Index(fields=["enterprise", "-as_of"])]

    def __str__(self):
        return f"{self.enterprise_id} {self.as_of} {self.score:.2f}"


class ProductRiskAssessment(models.Model):
    """One risk score 产品风险 of a product as of a date, with its factor contributions.

    Like the enterprise scores, a row is written only when the score or level changes. The
    division is the holder's; an enterprise user sees the products it holds or makes.
    """

    product = models.ForeignKey(Product, verbose_name="产品", on_delete=models.CASCADE, related_name="risk_assessments")
    division_code = models.CharField("行政区划代码", max_length=6, db_index=True)
    as_of = models.DateField("评估基准日", db_index=True)
    config_version = models.PositiveIntegerField("参数版本")
    intrinsic_score = models.FloatField("固有风险")
    compliance_score = models.FloatField("合规风险")
    score = models.FloatField("产品风险", db_index=True)
    level = models.PositiveSmallIntegerField("风险等级", choices=SupervisionLevel.choices, db_index=True)
    factors = models.JSONField("风险因素")
    is_current = models.BooleanField("当前", default=True, db_index=True)
    computed_at = models.DateTimeField("计算时间", auto_now_add=True)

    scope_enterprise_fields = ("product__holder_id", "product__manufacturer_id")

    class Meta:
        ordering = ["-as_of", "-id"]
        verbose_name = verbose_name_plural = "产品风险评估"
        indexes = [models.Index(fields=["product", "-as_of"])]

    def __str__(self):
        return f"{self.product_id} {self.as_of} {self.score:.2f}"


class LevelChange(EnterpriseRecord):
    """A change of supervision level 监管级别变更, logged with its reason."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="level_changes"
    )
    changed_on = models.DateField("变更日期")
    from_level = models.PositiveSmallIntegerField("原级别", choices=SupervisionLevel.choices, null=True)
    to_level = models.PositiveSmallIntegerField("新级别", choices=SupervisionLevel.choices)
    reason = models.TextField("原因")
    config_version = models.PositiveIntegerField("参数版本")

    class Meta:
        ordering = ["-changed_on", "-id"]
        verbose_name = verbose_name_plural = "监管级别变更"

    def __str__(self):
        return f"{self.enterprise_id}: {self.from_level}→{self.to_level}"


class RuleDefinition(models.Model):
    """An action rule 处置规则 declared as data: conditions, action, parameters; versioned."""

    code = models.CharField("规则代码", max_length=40)
    version = models.PositiveIntegerField("版本号", default=1)
    name = models.CharField("规则名称", max_length=64)
    definition = models.JSONField("规则定义")
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = verbose_name_plural = "处置规则"
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="rule_version_unique")]

    def __str__(self):
        return f"{self.name} v{self.version}"


class RuleDecision(EnterpriseRecord):
    """A logged rule decision 规则判定记录: fired or cleared, with its evidence."""

    rule_code = models.CharField("规则代码", max_length=40, db_index=True)
    rule_version = models.PositiveIntegerField("规则版本")
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="rule_decisions"
    )
    fired = models.BooleanField("触发")
    evidence = models.JSONField("依据")
    decided_on = models.DateField("判定日期")
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        ordering = ["-decided_on", "-id"]
        verbose_name = verbose_name_plural = "规则判定记录"

    def __str__(self):
        return f"{self.rule_code} {'触发' if self.fired else '解除'} {self.enterprise_id}"


class EnterpriseTag(EnterpriseRecord):
    """A tag 标签 set by a rule, e.g. 优先推荐; kept with its period when removed."""

    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField("标签", max_length=32, db_index=True)
    rule_code = models.CharField("规则代码", max_length=40)
    since = models.DateField("起始日期")
    until = models.DateField("解除日期", null=True, blank=True)
    is_active = models.BooleanField("有效", default=True, db_index=True)

    class Meta:
        ordering = ["-since"]
        verbose_name = verbose_name_plural = "企业标签"

    def __str__(self):
        return f"{self.enterprise_id} {self.tag}"


class WarningStatus(models.TextChoices):
    ACTIVE = "active", "预警中"
    CLEARED = "cleared", "已解除"


class RiskWarning(EnterpriseRecord):
    """A yellow warning 黄灯预警 raised by a rule."""

    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="warnings")
    rule_code = models.CharField("规则代码", max_length=40)
    colour = models.CharField("颜色", max_length=10, default="yellow")
    status = models.CharField(
        "状态", max_length=10, choices=WarningStatus.choices, default=WarningStatus.ACTIVE, db_index=True
    )
    raised_on = models.DateField("预警日期")
    cleared_on = models.DateField("解除日期", null=True, blank=True)
    evidence = models.JSONField("依据")

    class Meta:
        ordering = ["-raised_on"]
        verbose_name = verbose_name_plural = "风险预警"

    def __str__(self):
        return f"黄灯预警 {self.enterprise_id} {self.raised_on}"


class CaseStatus(models.TextChoices):
    OPEN = "open", "帮扶中"
    CLOSED = "closed", "已结案"


class AssistanceCase(EnterpriseRecord):
    """Technical assistance case 技术帮扶 opened by a yellow warning, with a shortened deadline."""

    warning = models.OneToOneField(RiskWarning, verbose_name="预警", on_delete=models.CASCADE, related_name="case")
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="assistance_cases"
    )
    opened_on = models.DateField("立案日期")
    standard_days = models.PositiveSmallIntegerField("标准整改期限（天）")
    deadline_days = models.PositiveSmallIntegerField("本案整改期限（天）")
    due_on = models.DateField("整改截止日期", db_index=True)
    status = models.CharField("状态", max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN, db_index=True)
    escalation_level = models.PositiveSmallIntegerField("督办级别", default=0)
    escalated_on = models.DateField("最近督办日期", null=True, blank=True)
    closed_on = models.DateField("结案日期", null=True, blank=True)
    result_summary = models.TextField("整改结果", blank=True)
    is_published = models.BooleanField("结果已公开", default=False)

    class Meta:
        ordering = ["due_on"]
        verbose_name = verbose_name_plural = "技术帮扶案件"

    def __str__(self):
        return f"技术帮扶 {self.enterprise_id} 截止 {self.due_on}"

    def get_absolute_url(self):
        return reverse("risk:assistancecase-detail", args=[self.pk])


class TeamRole(models.TextChoices):
    """The "4+1" team: four regulators plus an industry expert."""

    INSPECTOR = "inspector", "检查员"
    REVIEWER = "reviewer", "审评员"
    TESTER = "tester", "检验员"
    MONITOR = "monitor", "监测员"
    EXPERT = "expert", "行业专家"


class AssistanceMember(models.Model):
    case = models.ForeignKey(AssistanceCase, verbose_name="帮扶案件", on_delete=models.CASCADE, related_name="members")
    role = models.CharField("角色", max_length=10, choices=TeamRole.choices)
    name = models.CharField("姓名", max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="账号", null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = verbose_name_plural = "帮扶组成员"
        constraints = [models.UniqueConstraint(fields=["case", "role"], name="one_member_per_role")]

    def __str__(self):
        return f"{self.get_role_display()} {self.name}"


class AssistanceStep(models.Model):
    """A progress step 整改进展 of an assistance case."""

    case = models.ForeignKey(AssistanceCase, verbose_name="帮扶案件", on_delete=models.CASCADE, related_name="steps")
    title = models.CharField("事项", max_length=200)
    done_on = models.DateField("完成日期")
    note = models.TextField("说明", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", null=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["done_on", "id"]
        verbose_name = verbose_name_plural = "整改进展"

    def __str__(self):
        return self.title


class PeerComment(models.Model):
    """A peer-review comment 同行评议 on a published rectification result."""

    case = models.ForeignKey(AssistanceCase, verbose_name="帮扶案件", on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="评议人", null=True, on_delete=models.SET_NULL)
    content = models.TextField("评议内容")
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = verbose_name_plural = "同行评议"

    def __str__(self):
        return self.content[:30]


class Department(models.Model):
    """A partner department 协同部门 that receives priority lists (卫健, 医保, 科技, 金融, …)."""

    code = models.SlugField("部门代码", max_length=32, unique=True)
    name = models.CharField("部门名称", max_length=64)
    webhook_url = models.URLField("推送地址", blank=True)
    webhook_secret = models.CharField("签名密钥", max_length=128, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "协同部门"

    def __str__(self):
        return self.name


class Push(models.Model):
    """An enterprise pushed to a department's priority list 推送清单, until revoked."""

    department = models.ForeignKey(Department, verbose_name="部门", on_delete=models.CASCADE, related_name="pushes")
    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="pushes")
    division_code = models.CharField("行政区划代码", max_length=6, db_index=True)
    tag = models.CharField("标签", max_length=32)
    pushed_on = models.DateField("推送日期")
    revoked_on = models.DateField("撤回日期", null=True, blank=True)
    acknowledged_at = models.DateTimeField("签收时间", null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="签收人", null=True, blank=True, on_delete=models.SET_NULL
    )

    scope_department_field = "department__code"
    scope_enterprise_fields = ("enterprise_id",)

    class Meta:
        ordering = ["-pushed_on", "enterprise"]
        verbose_name = verbose_name_plural = "推送清单"

    def __str__(self):
        return f"{self.department} ← {self.enterprise_id} {self.tag}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    DELIVERED = "delivered", "已送达"
    FAILED = "failed", "发送失败"


class WebhookDelivery(models.Model):
    """One signed webhook message 推送消息 with its retries; the idempotency key is unique."""

    department = models.ForeignKey(Department, verbose_name="部门", on_delete=models.CASCADE, related_name="deliveries")
    idempotency_key = models.CharField("幂等键", max_length=64, unique=True)
    event = models.CharField("事件", max_length=32)
    payload = models.JSONField("内容")
    status = models.CharField(
        "状态", max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", db_index=True)
    last_error = models.TextField("最近错误", blank=True)
    response_status = models.PositiveSmallIntegerField("响应码", null=True, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "推送消息"

    def __str__(self):
        return f"{self.event} → {self.department} ({self.get_status_display()})"


class ScheduledRun(models.Model):
    """One run of a scheduled job 定时作业记录 (the nightly recomputation), with its outcome."""

    class Status(models.TextChoices):
        RUNNING = "running", "运行中"
        SUCCEEDED = "succeeded", "成功"
        FAILED = "failed", "失败"

    job = models.CharField("作业", max_length=32, db_index=True)
    scheduled_for = models.DateTimeField("计划时间", db_index=True)
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.RUNNING)
    summary = models.TextField("结果", blank=True)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        verbose_name = verbose_name_plural = "定时作业记录"

    def __str__(self):
        return f"{self.job} {self.scheduled_for:%Y-%m-%d %H:%M} {self.get_status_display()}"
