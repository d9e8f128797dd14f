"""Smart pharmacy syndromic early warning 智慧药店症状监测预警.

Retail pharmacies submit real-name purchase records 实名购药记录 of watched drug classes 监测药品类别;
daily counts 每日计数 per class × pharmacy × district feed the detectors of ``yaojian.surveillance``;
a detector crossing its threshold at several points at once (多点触发) raises an alert 预警 that goes to the
response list 处置清单.

Personal data: the buyer's name and ID number are encrypted at rest (``core.crypto``, SM4-GCM, key
``YAOJIAN_DATA_KEY`` outside the database) and also kept as a keyed hash (``buyer_hash``, HMAC-SM3, see
``pharmacy.privacy``) so that distinct buyers can be counted without decrypting. Records are deleted after the
retention period (``yaojian pharmacy purge``); the daily counts stay.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from yaojian.core import identifiers
from yaojian.core.crypto import EncryptedTextField
from yaojian.core.models import RegulatedModel


class DrugClass(models.Model):
    """Watched drug class 监测药品类别 and the words that map a sold item to it."""

    code = models.SlugField("类别代码", max_length=30, unique=True)
    name = models.CharField("类别名称", max_length=40)
    keywords = models.TextField(
        "匹配词", help_text="产品名称、成分或关键词，每行一个；药品名称包含其中任一词即归入本类", blank=True
    )
    is_active = models.BooleanField("监测中", default=True)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = verbose_name_plural = "监测药品类别"

    def __str__(self):
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return [w.strip() for w in self.keywords.replace("，", "\n").replace(",", "\n").splitlines() if w.strip()]


class Source(models.TextChoices):
    API = "api", "接口上报"
    UPLOAD = "upload", "文件导入"
    FORM = "form", "页面录入"
    DEMO = "demo", "演示数据"


class PurchaseRecord(RegulatedModel):
    """Real-name purchase record 实名购药记录: one line of a pharmacy's receipt for a watched drug."""

    pharmacy = models.ForeignKey(
        "registry.Enterprise", verbose_name="药店", on_delete=models.PROTECT, related_name="purchase_records"
    )
    receipt_number = models.CharField("小票号", max_length=40)
    line = models.PositiveSmallIntegerField("行号", default=1)
    sold_at = models.DateTimeField("销售时间")
    sold_on = models.DateField("销售日期", db_index=True, editable=False)
    drug_name = models.CharField("药品名称", max_length=200)
    drug_class = models.ForeignKey(DrugClass, verbose_name="监测类别", on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField("数量", default=1)
    buyer_name = EncryptedTextField("购药人姓名")
    buyer_id_number = EncryptedTextField("购药人身份证号")
    buyer_hash = models.CharField("购药人标识", max_length=64, db_index=True, editable=False)
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.FORM)

    scope_enterprise_fields = ("pharmacy_id",)

    class Meta:
        ordering = ["-sold_at", "-pk"]
        verbose_name = verbose_name_plural = "实名购药记录"
        constraints = [
            models.UniqueConstraint(fields=["pharmacy", "receipt_number", "line"], name="pharmacy_purchase_natural_key")
        ]
        indexes = [models.Index(fields=["sold_on", "pharmacy", "drug_class"])]

    def __str__(self):
        return f"{self.receipt_number}-{self.line} {self.drug_name}"

    def get_absolute_url(self):
        return reverse("pharmacy:record-detail", args=[self.pk])

    def resolve_division_code(self) -> str:
        return self.pharmacy.division_id

    @property
    def buyer_name_masked(self) -> str:
        return identifiers.mask_name(self.buyer_name)

    @property
    def buyer_id_number_masked(self) -> str:
        return identifiers.mask_resident_id(self.buyer_id_number)


class DailyCount(models.Model):
    """Daily count 每日计数 per drug class × pharmacy (with its district): what the detectors read.

    Kept after the purchase records are purged, so the series stay whole.
    """

    day = models.DateField("日期")
    pharmacy = models.ForeignKey("registry.Enterprise", verbose_name="药店", on_delete=models.PROTECT)
    division_code = models.CharField("行政区划代码", max_length=6, db_index=True)
    drug_class = models.ForeignKey(DrugClass, verbose_name="监测类别", on_delete=models.PROTECT)
    purchases = models.PositiveIntegerField("购药记录数", default=0)
    quantity = models.PositiveIntegerField("销售数量", default=0)
    buyers = models.PositiveIntegerField("购药人数", default=0)

    scope_enterprise_fields = ("pharmacy_id",)

    class Meta:
        ordering = ["day"]
        verbose_name = verbose_name_plural = "每日购药计数"
        constraints = [models.UniqueConstraint(fields=["day", "pharmacy", "drug_class"], name="pharmacy_daily_key")]
        indexes = [models.Index(fields=["day", "division_code"])]

    def __str__(self):
        return f"{self.day} {self.pharmacy_id} {self.drug_class_id}: {self.buyers}"


DETECTORS = {
    "c1": "EARS C1",
    "c2": "EARS C2",
    "c3": "EARS C3（教科书版）",
    "farrington": "Farrington 灵活法",
    "noufaily": "Farrington–Noufaily",
    "cusum": "CUSUM 累积和",
}


class Metric(models.TextChoices):
    BUYERS = "buyers", "购药人数"
    PURCHASES = "purchases", "购药记录数"
    QUANTITY = "quantity", "销售数量"


def default_detectors() -> list[str]:
    return ["c1", "c2", "c3", "farrington", "noufaily", "cusum"]


class WarningConfig(models.Model):
    """Early-warning settings 预警参数, versioned: the newest row is in force (see ``current``).

    Defaults and why:
    - metric 购药人数 (distinct buyers by keyed hash): one feverish person buying twice counts once;
    - EARS baseline 7 days (CDC EARS), C1/C2 alpha 0.001 (surveillance's default), textbook C3 threshold 2;
    - CUSUM on a 28-day baseline, k 0.5, h 4 (a one-sd shift is caught in about 8 days, Page 1954);
    - Farrington on daily data with weekly periodicity (freq 7): the same weekday ±w days in the last b weeks;
    - ``min_sigma`` 1: a pharmacy with a flat baseline needs more than one extra buyer to alarm;
    - multi-point 多点触发: ≥ 3 pharmacies in one district, or ≥ 3 districts in one city, on the same day (with
      six detectors on 7-day EARS baselines, 2 districts of a 10-district city fire by chance every few days).

    Measured false-alarm rates per series and day on pure Poisson(6) noise with these settings (5,000 series ×
    60 days): C1 2.1 %, C2 2.1 % (the nominal 0.1 % assumes a known sd; 7 days estimate it poorly), textbook C3
    8.6 % (3.9 % with threshold 3), CUSUM 0.8 %, Farrington 2.0 %, Noufaily 1.3 %. The textbook C3 therefore
    raises most chance multi-point alerts where a district has many pharmacies: raise its threshold, ``k``, or
    leave it out of ``detectors`` there.
    """

    version = models.PositiveIntegerField("版本", unique=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, blank=True, on_delete=models.SET_NULL
    )
    metric = models.CharField("监测指标", max_length=10, choices=Metric.choices, default=Metric.BUYERS)
    detectors = models.JSONField("启用的检测方法", default=default_detectors)
    history_days = models.PositiveSmallIntegerField("读取历史天数", default=120)
    ears_baseline = models.PositiveSmallIntegerField("EARS 基线天数", default=7)
    ears_alpha = models.FloatField("EARS C1/C2 显著性水平", default=0.001)
    c3_threshold = models.FloatField("C3 阈值", default=2.0)
    min_sigma = models.FloatField("最小标准差", default=1.0)
    cusum_baseline = models.PositiveSmallIntegerField("CUSUM 基线天数", default=28)
    cusum_k = models.FloatField("CUSUM 参考值 k", default=0.5)
    cusum_h = models.FloatField("CUSUM 决策限 h", default=4.0)
    farrington_freq = models.PositiveSmallIntegerField("Farrington 周期（天）", default=7)
    farrington_b = models.PositiveSmallIntegerField("Farrington 回溯周期数 b", default=4)
    farrington_w = models.PositiveSmallIntegerField("Farrington 窗口半宽 w", default=1)
    farrington_alpha = models.FloatField("Farrington 显著性水平", default=0.01)
    min_pharmacies = models.PositiveSmallIntegerField("多点触发：同区县药店数 k", default=3)
    min_districts = models.PositiveSmallIntegerField("多点触发：同市区县数 m", default=3)
    retention_days = models.PositiveSmallIntegerField("个人信息保存天数", default=180)

    class Meta:
        ordering = ["-version"]
        verbose_name = verbose_name_plural = "预警参数"

    def __str__(self):
        return f"预警参数 第{self.version}版"

    @classmethod
    def current(cls) -> "WarningConfig":
        """The version in force; an unsaved default when none was ever published."""
        return cls.objects.order_by("-version").first() or cls(version=0)


class AlertLevel(models.TextChoices):
    PHARMACIES = "pharmacies", "区县内多家药店"
    DISTRICTS = "districts", "市内多个区县"


class AlertStatus(models.TextChoices):
    NEW = "new", "新预警"
    VERIFYING = "verifying", "核实中"
    CLOSED = "closed", "已关闭"


class Alert(models.Model):
    """Alert 预警: one drug class crossing a detector's threshold at several points on the same day.

    ``division_code`` is the district (pharmacy-level alerts) or the city (district-level alerts) whose
    regulators handle it. A trigger within ``CONTINUES_DAYS`` of an open alert of the same class and area
    extends it (``last_day``) instead of opening another. ``points`` holds the latest day's triggering points:
    ``[{"key", "label", "count", "detectors": {detector: upper bound}}]``.
    """

    CONTINUES_DAYS = 3

    division_code = models.CharField("行政区划代码", max_length=6, db_index=True)
    drug_class = models.ForeignKey(DrugClass, verbose_name="监测类别", on_delete=models.PROTECT)
    level = models.CharField("触发层级", max_length=12, choices=AlertLevel.choices)
    first_day = models.DateField("首次触发日期")
    last_day = models.DateField("最近触发日期", db_index=True)
    detectors = models.JSONField("触发的检测方法", default=list)
    points = models.JSONField("触发点", default=list)
    n_points = models.PositiveSmallIntegerField("触发点数", default=0)
    status = models.CharField("处置状态", max_length=10, choices=AlertStatus.choices, default=AlertStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处置人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pharmacy_alerts",
    )
    notes = models.TextField("处置记录", blank=True)
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_enterprise_fields: tuple[str, ...] = ()

    class Meta:
        ordering = ["-last_day", "-pk"]
        verbose_name = verbose_name_plural = "药店预警"

    def __str__(self):
        return f"{self.last_day} {self.drug_class} {self.get_level_display()}预警"

    def get_absolute_url(self):
        return reverse("pharmacy:alert-detail", args=[self.pk])

    @property
    def detector_labels(self) -> str:
        return "、".join(DETECTORS.get(d, d) for d in self.detectors)
