"""Credit ratings 信用评价 (SAMR 企业信用风险分类 A–D)."""

from django.db import models
from django.urls import reverse

from yaojian.core.models import RegulatedModel
from yaojian.registry.models import Enterprise


class CreditGrade(models.TextChoices):
    A = "A", "A 信用风险低"
    B = "B", "B 信用风险一般"
    C = "C", "C 信用风险较高"
    D = "D", "D 信用风险高"


class CreditRating(RegulatedModel):
    """Credit rating 信用评价 of an enterprise on a date, with its basis."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="credit_ratings"
    )
    grade = models.CharField("信用等级", max_length=1, choices=CreditGrade.choices, db_index=True)
    rated_on = models.DateField("评定日期", db_index=True)
    basis = models.TextField("评定依据", blank=True)
    valid_until = models.DateField("有效期至", null=True, blank=True)

    class Meta:
        ordering = ["-rated_on"]
        verbose_name = verbose_name_plural = "信用评价"
        constraints = [models.UniqueConstraint(fields=["enterprise", "rated_on"], name="credit_natural_key")]

    def __str__(self):
        return f"{self.enterprise} {self.grade}（{self.rated_on}）"

    def get_absolute_url(self):
        return reverse("credit:creditrating-detail", args=[self.pk])
