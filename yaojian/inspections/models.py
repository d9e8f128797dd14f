"""Inspections 监督检查 and their defects 缺陷."""

from django.db import models
from django.urls import reverse

from yaojian.core.models import RegulatedModel
from yaojian.registry.models import Enterprise

from .choices import Conclusion, DefectGrade, InspectionKind


class Inspection(RegulatedModel):
    """Inspection 检查 of an enterprise."""

    number = models.CharField("检查编号", max_length=64, unique=True)
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="被检查企业", on_delete=models.PROTECT, related_name="inspections"
    )
    kind = models.CharField("检查类型", max_length=10, choices=InspectionKind.choices, db_index=True)
    inspected_on = models.DateField("检查日期", db_index=True)
    inspectors = models.CharField("检查人员", max_length=200)
    conclusion = models.CharField("检查结论", max_length=14, choices=Conclusion.choices, default=Conclusion.PENDING)
    summary = models.TextField("检查情况", blank=True)

    class Meta:
        ordering = ["-inspected_on"]
        verbose_name = verbose_name_plural = "监督检查"

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"

    def get_absolute_url(self):
        return reverse("inspections:inspection-detail", args=[self.pk])


class Defect(RegulatedModel):
    """Defect 缺陷 found in an inspection, graded critical 严重 / major 主要 / minor 一般."""

    inspection = models.ForeignKey(Inspection, verbose_name="检查", on_delete=models.CASCADE, related_name="defects")
    code = models.CharField("缺陷条款", max_length=32)
    grade = models.CharField("缺陷等级", max_length=10, choices=DefectGrade.choices, db_index=True)
    description = models.TextField("缺陷描述")
    rectification_due = models.DateField("整改期限", null=True, blank=True)
    rectified_on = models.DateField("整改完成日期", null=True, blank=True)

    scope_enterprise_fields = ("inspection__enterprise_id",)

    class Meta:
        ordering = ["inspection", "grade", "code"]
        verbose_name = verbose_name_plural = "缺陷"
        constraints = [models.UniqueConstraint(fields=["inspection", "code"], name="defect_natural_key")]

    def __str__(self):
        return f"{self.code} {self.get_grade_display()}"

    def get_absolute_url(self):
        return reverse("inspections:inspection-detail", args=[self.inspection_id])

    def resolve_division_code(self) -> str:
        return self.inspection.division_code or self.inspection.resolve_division_code()
