"""Complaints and reports 投诉举报."""

from django.db import models
from django.urls import reverse

from yaojian.core.crypto import EncryptedTextField
from yaojian.core.identifiers import mask_name, mask_phone
from yaojian.core.models import RegulatedModel
from yaojian.registry.models import Enterprise, Product


class Channel(models.TextChoices):
    HOTLINE = "hotline", "12315热线"
    ONLINE = "online", "网络平台"
    LETTER = "letter", "来信来访"
    REFERRAL = "referral", "部门移送"


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", "已受理"
    INVESTIGATING = "investigating", "核查中"
    CLOSED = "closed", "已办结"


class Complaint(RegulatedModel):
    """Complaint or report 投诉举报 about an enterprise; the complainant's identity is encrypted."""

    number = models.CharField("受理编号", max_length=64, unique=True)
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="被投诉企业", on_delete=models.PROTECT, related_name="complaints"
    )
    product = models.ForeignKey(
        Product, verbose_name="涉及产品", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    channel = models.CharField("来源渠道", max_length=10, choices=Channel.choices, default=Channel.HOTLINE)
    received_on = models.DateField("受理日期", db_index=True)
    due_on = models.DateField("办理期限", null=True, blank=True)
    subject = models.CharField("事项", max_length=200)
    content = models.TextField("内容", blank=True)
    complainant_name = EncryptedTextField("投诉人", blank=True)
    complainant_phone = EncryptedTextField("联系电话", blank=True)
    status = models.CharField(
        "办理状态", max_length=14, choices=ComplaintStatus.choices, default=ComplaintStatus.RECEIVED
    )
    substantiated = models.BooleanField("查证属实", null=True, blank=True)
    closed_on = models.DateField("办结日期", null=True, blank=True)

    class Meta:
        ordering = ["-received_on"]
        verbose_name = verbose_name_plural = "投诉举报"

    def __str__(self):
        return f"{self.number} {self.subject}"

    def get_absolute_url(self):
        return reverse("complaints:complaint-detail", args=[self.pk])

    @property
    def complainant_name_masked(self) -> str:
        return mask_name(self.complainant_name)

    @property
    def complainant_phone_masked(self) -> str:
        return mask_phone(self.complainant_phone)
