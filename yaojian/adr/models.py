"""Adverse-reaction reports 药品不良反应/事件报告 — the minimal form of the foundation.

Full pharmacovigilance (E2B, coding, deadlines, signals) extends this model.
"""

from django.db import models
from django.urls import reverse

from yaojian.core.models import RegulatedModel
from yaojian.registry.models import Batch, Enterprise, Product


class Seriousness(models.TextChoices):
    GENERAL = "general", "一般"
    SERIOUS = "serious", "严重"
    DEATH = "death", "死亡"


class PatientSex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"
    UNKNOWN = "U", "未知"


class Outcome(models.TextChoices):
    RECOVERED = "recovered", "痊愈"
    IMPROVED = "improved", "好转"
    NOT_RECOVERED = "not_recovered", "未好转"
    SEQUELAE = "sequelae", "有后遗症"
    DEATH = "death", "死亡"
    UNKNOWN = "unknown", "不详"


class AdrReport(RegulatedModel):
    """ADR report 不良反应报告, linked to the enterprise (holder) and, where known, product and batch."""

    report_number = models.CharField("报告编码", max_length=64, unique=True)
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="持有人/关联企业", on_delete=models.PROTECT, related_name="adr_reports"
    )
    product = models.ForeignKey(
        Product, verbose_name="怀疑产品", null=True, blank=True, on_delete=models.PROTECT, related_name="adr_reports"
    )
    batch = models.ForeignKey(
        Batch, verbose_name="批次", null=True, blank=True, on_delete=models.PROTECT, related_name="adr_reports"
    )
    reporter_unit = models.CharField("报告单位", max_length=200, blank=True)
    reported_on = models.DateField("报告日期", db_index=True)
    onset_on = models.DateField("发生日期", null=True, blank=True)
    reaction = models.CharField("不良反应名称", max_length=200)
    seriousness = models.CharField(
        "严重程度", max_length=8, choices=Seriousness.choices, default=Seriousness.GENERAL, db_index=True
    )
    is_new = models.BooleanField("新的不良反应", default=False)
    patient_sex = models.CharField("患者性别", max_length=1, choices=PatientSex.choices, default=PatientSex.UNKNOWN)
    patient_age = models.PositiveSmallIntegerField("患者年龄", null=True, blank=True)
    outcome = models.CharField("转归", max_length=14, choices=Outcome.choices, default=Outcome.UNKNOWN)
    description = models.TextField("不良反应过程描述", blank=True)

    class Meta:
        ordering = ["-reported_on"]
        verbose_name = verbose_name_plural = "不良反应报告"

    def __str__(self):
        return f"{self.report_number} {self.reaction}"

    def get_absolute_url(self):
        return reverse("adr:adrreport-detail", args=[self.pk])
