"""Risk portrait 风险画像: versioned model parameters, scores with their factors, level changes."""

from django.conf import settings
from django.db import models

from yaojian.registry.models import Enterprise


class SupervisionLevel(models.IntegerChoices):
    LOW = 1, "一级（低风险）"
    MODERATE = 2, "二级（一般风险）"
    ELEVATED = 3, "三级（较高风险）"
    HIGH = 4, "四级（高风险）"


class RiskModelConfig(models.Model):
    """A version of the risk-model parameters 风险模型参数版本. Exactly one is active."""

    version = models.PositiveIntegerField("版本号", unique=True)
    parameters = models.JSONField("参数")
    note = models.CharField("修订说明", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="修订人", null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = verbose_name_plural = "风险模型参数"

    def __str__(self):
        return f"风险模型 v{self.version}"


class RiskAssessment(models.Model):
    """One risk score 风险评分 of an enterprise as of a date, with its factor contributions.

    A row is written only when the score or level changes, so the history is the
    sequence of changes and stays small at nightly recomputation.
    """

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="risk_assessments"
    )
    division_code = models.CharField("行政区划代码", max_length=6, db_index=True)
    as_of = models.DateField("评估基准日", db_index=True)
    config_version = models.PositiveIntegerField("参数版本")
    intrinsic_score = models.FloatField("固有风险")
    compliance_score = models.FloatField("合规风险")
    score = models.FloatField("综合风险", db_index=True)
    level = models.PositiveSmallIntegerField("监管级别", choices=SupervisionLevel.choices, db_index=True)
    inspection_interval_months = models.PositiveSmallIntegerField("检查频次（月）")
    factors = models.JSONField("风险因素")
    is_current = models.BooleanField("当前", default=True, db_index=True)
    computed_at = models.DateTimeField("计算时间", auto_now_add=True)

    scope_enterprise_fields = ("enterprise_id",)

    class Meta:
        ordering = ["-as_of", "-id"]
        verbose_name = verbose_name_plural = "风险评估"
        indexes = [models.Index(fields=["enterprise", "-as_of"])]

    def __str__(self):
        return f"{self.enterprise_id} {self.as_of} {self.score:.2f}"


class LevelChange(models.Model):
    """A change of supervision level 监管级别变更, logged with its reason."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="level_changes"
    )
    division_code = models.CharField("行政区划代码", max_length=6, db_index=True)
    changed_on = models.DateField("变更日期")
    from_level = models.PositiveSmallIntegerField("原级别", choices=SupervisionLevel.choices, null=True)
    to_level = models.PositiveSmallIntegerField("新级别", choices=SupervisionLevel.choices)
    reason = models.TextField("原因")
    config_version = models.PositiveIntegerField("参数版本")

    scope_enterprise_fields = ("enterprise_id",)

    class Meta:
        ordering = ["-changed_on", "-id"]
        verbose_name = verbose_name_plural = "监管级别变更"

    def __str__(self):
        return f"{self.enterprise_id}: {self.from_level}→{self.to_level}"
