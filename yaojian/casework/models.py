"""Case work 病例处理: the versioned parameters of deadlines and duplicate scoring, and the duplicate queue.

The reaction dictionary itself (``ReactionTerm``/``ReactionSynonym``) lives with the case model in
``yaojian.adr``; this app maintains it, codes reactions against it, and works the queues.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from yaojian.adr.models import AdrReport
from yaojian.core.models import VersionedParameters

# Defaults 默认参数. Deadlines follow 《药品不良反应报告和监测管理办法》(卫生部令第81号) 第二十一条:
# death 立即 (due the same day as first knowledge, 0 days), new or serious 15 days, others 30 days;
# 第二十二条: a holder investigates a death and reports within 15 days (the follow-up tracked here);
# sentinel sites 哨点 aim at 7 days from sale or first knowledge (即销即报).
DEFAULTS = {
    "death_days": 0,
    "serious_days": 15,
    "new_days": 15,
    "general_days": 30,
    "sentinel_days": 7,
    "followup_days": 15,
    "near_due_days": 3,
    # Duplicate scoring 重复报告评分: onset tolerance, pair threshold and evidence weights (sum 1).
    "onset_tolerance_days": 7,
    "duplicate_threshold": 0.7,
    "weight_drug": 0.25,
    "weight_reaction": 0.25,
    "weight_sex": 0.1,
    "weight_age": 0.1,
    "weight_onset": 0.15,
    "weight_batch": 0.05,
    "weight_initials": 0.1,
}


class CaseworkConfig(VersionedParameters):
    """A version of the case-work parameters 病例处理参数版本 (deadlines, duplicate scoring). One is active."""

    class Meta(VersionedParameters.Meta):
        verbose_name = verbose_name_plural = "病例处理参数"

    def __str__(self):
        return f"病例处理参数 v{self.version}"

    def value(self, name: str):
        """A parameter, falling back to the default for names added after this version was stored."""
        return self.parameters.get(name, DEFAULTS[name])


class CandidateStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    MERGED = "merged", "已合并"
    DISMISSED = "dismissed", "非重复"


class DuplicateCandidate(models.Model):
    """A likely duplicate pair 疑似重复报告 (``report_a.pk < report_b.pk``) with its score and evidence.

    ``division_code`` is the common GB/T 2260 prefix of the two reports' divisions, so
    ``core.access.scoped`` shows a pair only to users whose jurisdiction holds both reports.
    """

    division_code = models.CharField("辖区代码前缀", max_length=6, blank=True, db_index=True)
    report_a = models.ForeignKey(
        AdrReport, verbose_name="报告甲", on_delete=models.CASCADE, related_name="duplicate_candidates_a"
    )
    report_b = models.ForeignKey(
        AdrReport, verbose_name="报告乙", on_delete=models.CASCADE, related_name="duplicate_candidates_b"
    )
    score = models.FloatField("相似度", db_index=True)
    evidence = models.JSONField("证据", default=dict)
    status = models.CharField(
        "状态", max_length=10, choices=CandidateStatus.choices, default=CandidateStatus.PENDING, db_index=True
    )
    kept = models.ForeignKey(
        AdrReport, verbose_name="保留报告", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True, on_delete=models.SET_NULL
    )
    found_at = models.DateTimeField("发现时间", auto_now_add=True)
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)

    class Meta:
        ordering = ["-score", "-id"]
        constraints = [models.UniqueConstraint(fields=["report_a", "report_b"], name="duplicatecandidate_unique_pair")]
        verbose_name = verbose_name_plural = "疑似重复报告"

    def __str__(self):
        return f"疑似重复 #{self.pk}"

    def get_absolute_url(self):
        return reverse("casework:duplicate-detail", args=[self.pk])

    @property
    def duplicate(self) -> AdrReport | None:
        """The report merged away 被合并报告 (the one that is not kept)."""
        if self.kept_id is None:
            return None
        return self.report_b if self.kept_id == self.report_a_id else self.report_a
