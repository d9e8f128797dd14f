"""Sampling tests 抽检 (《药品质量抽查检验管理办法》)."""

from django.db import models
from django.urls import reverse

from yaojian.core.models import RegulatedModel
from yaojian.registry.models import Batch, Enterprise, Product


class SamplingKind(models.TextChoices):
    SUPERVISORY = "supervisory", "监督抽检"
    EVALUATIVE = "evaluative", "评价抽检"


class SamplingResult(models.TextChoices):
    PASS = "pass", "符合规定"
    FAIL = "fail", "不符合规定"
    PENDING = "pending", "检验中"


class SamplingTest(RegulatedModel):
    """Sampling test 抽检: product and batch sampled at an enterprise, with its result."""

    number = models.CharField("抽样编号", max_length=64, unique=True)
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="被抽样单位", on_delete=models.PROTECT, related_name="sampling_tests"
    )
    product = models.ForeignKey(Product, verbose_name="产品", on_delete=models.PROTECT, related_name="sampling_tests")
    batch = models.ForeignKey(
        Batch, verbose_name="批次", null=True, blank=True, on_delete=models.PROTECT, related_name="sampling_tests"
    )
    kind = models.CharField("抽检类型", max_length=12, choices=SamplingKind.choices, default=SamplingKind.SUPERVISORY)
    sampled_on = models.DateField("抽样日期", db_index=True)
    result = models.CharField(
        "检验结论", max_length=8, choices=SamplingResult.choices, default=SamplingResult.PENDING, db_index=True
    )
    failed_items = models.TextField("不合格项目", blank=True)
    reported_on = models.DateField("报告日期", null=True, blank=True)

    scope_enterprise_fields = ("enterprise_id", "product__holder_id")

    class Meta:
        ordering = ["-sampled_on"]
        verbose_name = verbose_name_plural = "抽检"

    def __str__(self):
        return f"抽检 {self.number}"

    def get_absolute_url(self):
        return reverse("sampling:samplingtest-detail", args=[self.pk])
