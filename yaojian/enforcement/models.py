"""Administrative penalties 行政处罚."""

from django.db import models
from django.urls import reverse

from yaojian.core.models import RegulatedModel
from yaojian.registry.models import Enterprise, Product


class PenaltyKind(models.TextChoices):
    WARNING = "warning", "警告"
    FINE = "fine", "罚款"
    CONFISCATION = "confiscation", "没收违法所得/物品"
    SUSPENSION = "suspension", "责令停产停业"
    REVOCATION = "revocation", "吊销许可证件"
    RESTRICTION = "restriction", "限制从业"


class Penalty(RegulatedModel):
    """Administrative penalty decision 行政处罚决定."""

    decision_number = models.CharField("处罚决定书文号", max_length=100, unique=True)
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="当事人", on_delete=models.PROTECT, related_name="penalties"
    )
    product = models.ForeignKey(
        Product, verbose_name="涉案产品", null=True, blank=True, on_delete=models.PROTECT, related_name="penalties"
    )
    decided_on = models.DateField("处罚日期", db_index=True)
    violation = models.TextField("违法事实")
    legal_basis = models.CharField("处罚依据", max_length=300, blank=True)
    kind = models.CharField("处罚种类", max_length=14, choices=PenaltyKind.choices, db_index=True)
    fine_amount = models.DecimalField("罚没金额（元）", max_digits=14, decimal_places=2, default=0)
    is_published = models.BooleanField("已公示", default=True)

    class Meta:
        ordering = ["-decided_on"]
        verbose_name = verbose_name_plural = "行政处罚"

    def __str__(self):
        return self.decision_number

    def get_absolute_url(self):
        return reverse("enforcement:penalty-detail", args=[self.pk])
