"""Adverse-reaction cases 药品不良反应/事件报告, modelled on the ICH E2B(R3) core.

One ``AdrReport`` is one case safety report (ICSR). Its drugs (section G) and reactions (section E)
are child rows; the report keeps the first suspect product/batch and the first reaction as summary
columns so lists, risk scoring and dossiers read one table. ``services`` in this app keep those
summaries in step with the children.
"""

from django.db import models
from django.urls import reverse

from yaojian.core.crypto import EncryptedTextField
from yaojian.core.identifiers import mask_name, mask_phone
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
    """Reaction outcome 转归 (E2B E.i.7)."""

    RECOVERED = "recovered", "痊愈"
    IMPROVED = "improved", "好转"
    NOT_RECOVERED = "not_recovered", "未好转"
    SEQUELAE = "sequelae", "有后遗症"
    DEATH = "death", "死亡"
    UNKNOWN = "unknown", "不详"


class ReportType(models.TextChoices):
    """Type of report 报告类型 (E2B C.1.3)."""

    SPONTANEOUS = "spontaneous", "自发报告"
    STUDY = "study", "研究报告"
    OTHER = "other", "其他"
    NOT_AVAILABLE = "not_available", "不详"


class ReportSource(models.TextChoices):
    """Where the report came from 报告来源; ``sentinel`` marks a sentinel-site 哨点 report."""

    HOSPITAL = "hospital", "医疗机构"
    HOLDER = "holder", "持有人/生产企业"
    DISTRIBUTOR = "distributor", "经营企业"
    SENTINEL = "sentinel", "哨点"
    INDIVIDUAL = "individual", "个人"
    LITERATURE = "literature", "文献"
    OTHER = "other", "其他"


class ReporterQualification(models.TextChoices):
    """Primary source qualification 报告人职业 (E2B C.2.r.4)."""

    PHYSICIAN = "physician", "医生"
    PHARMACIST = "pharmacist", "药师"
    OTHER_HCP = "other_hcp", "其他医务人员"
    LAWYER = "lawyer", "律师"
    CONSUMER = "consumer", "消费者/非医务人员"


class AgeGroup(models.TextChoices):
    """Patient age group 年龄组 (E2B D.2.3)."""

    NEONATE = "neonate", "新生儿"
    INFANT = "infant", "婴儿"
    CHILD = "child", "儿童"
    ADOLESCENT = "adolescent", "青少年"
    ADULT = "adult", "成人"
    ELDERLY = "elderly", "老年人"


class Causality(models.TextChoices):
    """The Chinese six-level causality assessment 关联性评价."""

    CERTAIN = "certain", "肯定"
    PROBABLE = "probable", "很可能"
    POSSIBLE = "possible", "可能"
    UNLIKELY = "unlikely", "可能无关"
    PENDING = "pending", "待评价"
    UNASSESSABLE = "unassessable", "无法评价"


class DrugRole(models.TextChoices):
    """Drug characterisation 药品类型 (E2B G.k.1)."""

    SUSPECT = "suspect", "怀疑药品"
    CONCOMITANT = "concomitant", "并用药品"
    INTERACTING = "interacting", "相互作用"
    NOT_ADMINISTERED = "not_administered", "未使用"


class ActionTaken(models.TextChoices):
    """Action taken with the drug 对药品采取的措施 (E2B G.k.8)."""

    WITHDRAWN = "withdrawn", "停药"
    REDUCED = "reduced", "减量"
    INCREASED = "increased", "加量"
    UNCHANGED = "unchanged", "剂量不变"
    UNKNOWN = "unknown", "不详"
    NOT_APPLICABLE = "not_applicable", "不适用"


class AdrReport(RegulatedModel):
    """Case safety report 不良反应/事件报告 (ICSR).

    ``enterprise`` is the marketing-authorisation holder when it is known; reports received from
    elsewhere (for example an E2B file from abroad) may have none, and then keep the division they
    were filed under.
    """

    report_number = models.CharField("报告编码", max_length=100, unique=True)  # C.1.1
    worldwide_case_id = models.CharField("全球唯一病例编号", max_length=100, blank=True, db_index=True)  # C.1.8.1
    report_type = models.CharField(
        "报告类型", max_length=14, choices=ReportType.choices, default=ReportType.SPONTANEOUS
    )
    source = models.CharField(
        "报告来源", max_length=12, choices=ReportSource.choices, default=ReportSource.HOSPITAL, db_index=True
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="持有人/关联企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adr_reports",
    )
    product = models.ForeignKey(
        Product, verbose_name="怀疑产品", null=True, blank=True, on_delete=models.PROTECT, related_name="adr_reports"
    )
    batch = models.ForeignKey(
        Batch, verbose_name="批次", null=True, blank=True, on_delete=models.PROTECT, related_name="adr_reports"
    )
    reporting_enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="报告单位（登记主体）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adr_reports_filed",
        help_text="报告单位为已登记的医疗机构、药店或哨点时填写",
    )
    reporter_unit = models.CharField("报告单位", max_length=200, blank=True)
    reporter_qualification = models.CharField(
        "报告人职业", max_length=10, choices=ReporterQualification.choices, blank=True
    )
    reporter_country = models.CharField("报告人国家", max_length=2, default="CN")
    sold_on = models.DateField("销售日期", null=True, blank=True, help_text="哨点药店“即销即报”的计时起点")
    received_on = models.DateField("首次获知日期", null=True, blank=True, db_index=True)  # C.1.4
    latest_received_on = models.DateField("最新信息获知日期", null=True, blank=True)  # C.1.5
    reported_on = models.DateField("报告日期", db_index=True)  # C.1.2
    onset_on = models.DateField("发生日期", null=True, blank=True)
    reaction = models.CharField("不良反应名称", max_length=200)
    seriousness = models.CharField(
        "严重程度", max_length=8, choices=Seriousness.choices, default=Seriousness.GENERAL, db_index=True
    )
    is_new = models.BooleanField("新的不良反应", default=False)
    patient_name = EncryptedTextField("患者姓名", blank=True)
    patient_contact = EncryptedTextField("患者联系方式", blank=True)
    patient_initials = models.CharField("患者姓名缩写", max_length=20, blank=True)  # D.1
    patient_sex = models.CharField("患者性别", max_length=1, choices=PatientSex.choices, default=PatientSex.UNKNOWN)
    patient_age = models.PositiveSmallIntegerField("患者年龄（岁）", null=True, blank=True)
    patient_age_group = models.CharField("年龄组", max_length=10, choices=AgeGroup.choices, blank=True)
    patient_weight_kg = models.DecimalField("体重（kg）", max_digits=6, decimal_places=2, null=True, blank=True)
    outcome = models.CharField("转归", max_length=14, choices=Outcome.choices, default=Outcome.UNKNOWN)
    causality = models.CharField(
        "关联性评价", max_length=12, choices=Causality.choices, default=Causality.PENDING, db_index=True
    )
    description = models.TextField("不良反应过程描述", blank=True)  # H.1 narrative
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name="合并至",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_duplicates",
        help_text="被合并的重复报告不再计入统计",
    )
    is_nullified = models.BooleanField("已作废", default=False)  # C.1.11.1

    scope_enterprise_fields = ("enterprise_id", "reporting_enterprise_id")

    class Meta:
        ordering = ["-reported_on"]
        verbose_name = verbose_name_plural = "不良反应报告"

    def __str__(self):
        return f"{self.report_number} {self.reaction}"

    def get_absolute_url(self):
        return reverse("adr:adrreport-detail", args=[self.pk])

    def resolve_division_code(self) -> str:
        for enterprise_id in (self.enterprise_id, self.reporting_enterprise_id):
            if enterprise_id:
                return Enterprise.objects.values_list("division_id", flat=True).get(pk=enterprise_id)
        if not self.division_code:
            raise Enterprise.DoesNotExist("报告既无关联企业也无所属行政区划")
        return self.division_code

    @property
    def patient_name_masked(self) -> str:
        return mask_name(self.patient_name)

    @property
    def patient_contact_masked(self) -> str:
        return mask_phone(self.patient_contact)


class AdrDrug(models.Model):
    """Drug in a case 报告涉及药品 (E2B G.k)."""

    report = models.ForeignKey(AdrReport, verbose_name="报告", on_delete=models.CASCADE, related_name="drugs")
    position = models.PositiveSmallIntegerField("序号", default=1)
    role = models.CharField("药品类型", max_length=16, choices=DrugRole.choices, default=DrugRole.SUSPECT)
    product = models.ForeignKey(
        Product, verbose_name="对应产品", null=True, blank=True, on_delete=models.PROTECT, related_name="adr_drugs"
    )
    batch = models.ForeignKey(
        Batch, verbose_name="对应批次", null=True, blank=True, on_delete=models.PROTECT, related_name="adr_drugs"
    )
    name = models.CharField("药品名称", max_length=300)  # G.k.2.2
    approval_number = models.CharField("批准文号", max_length=64, blank=True)
    manufacturer_name = models.CharField("生产厂家", max_length=200, blank=True)
    batch_number = models.CharField("生产批号", max_length=64, blank=True)  # G.k.4.r.7
    dose_value = models.DecimalField("单次剂量", max_digits=12, decimal_places=4, null=True, blank=True)
    dose_unit = models.CharField("剂量单位", max_length=20, blank=True)
    dose_text = models.CharField("用法用量", max_length=200, blank=True)
    route = models.CharField("给药途径", max_length=60, blank=True)
    indication = models.CharField("用药原因", max_length=200, blank=True)  # G.k.7.r.1
    start_on = models.DateField("用药起始日期", null=True, blank=True)
    stop_on = models.DateField("用药终止日期", null=True, blank=True)
    action_taken = models.CharField("采取措施", max_length=16, choices=ActionTaken.choices, blank=True)
    causality = models.CharField("关联性评价", max_length=12, choices=Causality.choices, blank=True)

    class Meta:
        ordering = ["report", "position"]
        verbose_name = verbose_name_plural = "报告药品"

    def __str__(self):
        return f"{self.get_role_display()} {self.name}"


class ReactionTerm(models.Model):
    """Controlled reaction term 不良反应术语: the project dictionary, or MedDRA preferred terms where licensed."""

    dictionary = models.CharField("术语集", max_length=20, default="yaojian", db_index=True)
    version = models.CharField("版本", max_length=20, blank=True)
    code = models.CharField("术语编码", max_length=20)
    name = models.CharField("标准术语", max_length=200)
    name_en = models.CharField("英文术语", max_length=200, blank=True)
    system_organ_class = models.CharField("系统器官分类", max_length=100, blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["dictionary", "code"]
        constraints = [models.UniqueConstraint(fields=["dictionary", "code"], name="reactionterm_unique_code")]
        verbose_name = verbose_name_plural = "不良反应术语"

    def __str__(self):
        return f"{self.name}（{self.code}）"


class ReactionSynonym(models.Model):
    """Synonym 同义词 mapping a normalised free-text term to a controlled term."""

    term = models.ForeignKey(ReactionTerm, verbose_name="标准术语", on_delete=models.CASCADE, related_name="synonyms")
    text = models.CharField("同义词（规范化）", max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["term", "text"], name="reactionsynonym_unique_text")]
        indexes = [models.Index(fields=["text"])]
        verbose_name = verbose_name_plural = "术语同义词"

    def __str__(self):
        return self.text


class AdrReaction(models.Model):
    """Reaction in a case 不良反应/事件 (E2B E.i); seriousness criteria are held per reaction as E2B does."""

    report = models.ForeignKey(AdrReport, verbose_name="报告", on_delete=models.CASCADE, related_name="reactions")
    position = models.PositiveSmallIntegerField("序号", default=1)
    reported_term = models.CharField("报告术语", max_length=250)  # E.i.1.1a
    coded_term = models.ForeignKey(
        ReactionTerm,
        verbose_name="编码术语",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reactions",
    )
    onset_on = models.DateField("发生日期", null=True, blank=True)  # E.i.4
    end_on = models.DateField("结束日期", null=True, blank=True)  # E.i.5
    outcome = models.CharField("转归", max_length=14, choices=Outcome.choices, default=Outcome.UNKNOWN)
    results_in_death = models.BooleanField("导致死亡", default=False)
    life_threatening = models.BooleanField("危及生命", default=False)
    hospitalisation = models.BooleanField("导致住院或住院时间延长", default=False)
    disabling = models.BooleanField("导致残疾或功能丧失", default=False)
    congenital_anomaly = models.BooleanField("导致先天异常", default=False)
    other_medically_important = models.BooleanField("其他重要医学事件", default=False)

    SERIOUSNESS_FIELDS = (
        "results_in_death",
        "life_threatening",
        "hospitalisation",
        "disabling",
        "congenital_anomaly",
        "other_medically_important",
    )

    class Meta:
        ordering = ["report", "position"]
        verbose_name = verbose_name_plural = "不良反应/事件"

    def __str__(self):
        return self.reported_term

    @property
    def is_serious(self) -> bool:
        return any(getattr(self, name) for name in self.SERIOUSNESS_FIELDS)
