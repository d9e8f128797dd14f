"""Import jobs 导入任务: one uploaded file, its progress and its outcome."""

from django.conf import settings
from django.db import models
from django.urls import reverse


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队"
    VALIDATING = "validating", "校验中"
    IMPORTING = "importing", "导入中"
    DONE = "done", "完成"
    FAILED = "failed", "失败"


class ImportJob(models.Model):
    """Import job 导入任务, processed in the background by ``imports.jobs.process``."""

    kind = models.CharField("数据类型", max_length=20)
    file_name = models.CharField("文件名", max_length=255)
    stored_path = models.CharField("存储路径", max_length=500, editable=False)
    sha256 = models.CharField("文件哈希", max_length=64, blank=True)
    status = models.CharField("状态", max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    skip_invalid = models.BooleanField("跳过错误行", default=False)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    processed_rows = models.PositiveIntegerField("已处理行数", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    rejected_count = models.PositiveIntegerField("拒绝", default=0)
    error_count = models.PositiveIntegerField("错误数", default=0)
    message = models.CharField("结果说明", max_length=500, blank=True)
    error_report = models.JSONField("错误报告", default=list, blank=True)
    rejects_path = models.CharField("拒绝行文件", max_length=500, blank=True, editable=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = verbose_name_plural = "导入任务"

    def __str__(self):
        return f"导入任务 #{self.pk} {self.file_name}"

    def get_absolute_url(self):
        return reverse("imports:job-detail", args=[self.pk])

    @property
    def kind_title(self) -> str:
        from .specs import all_specs

        spec = all_specs().get(self.kind)
        return spec.title if spec else self.kind

    @property
    def running(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.VALIDATING, JobStatus.IMPORTING)

    @property
    def percent(self) -> int:
        if not self.running:
            return 100
        return min(99, self.processed_rows * 100 // self.total_rows) if self.total_rows else 0
