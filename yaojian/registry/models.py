"""Registry 主体与品种档案: enterprises, licences, products with their packaging levels, registrations, batches."""

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from yaojian.core import identifiers
from yaojian.core.models import Division, RegulatedModel

from .choices import (
    DeviceClass,
    DrugType,
    EnterpriseScale,
    EnterpriseStatus,
    EnterpriseType,
    LicenceStatus,
    LicenceType,
    PackageLevel,
    ProductCategory,
    RegistrationKind,
    RegistrationStatus,
)
from .packaging import level_errors, validate_identifier


def validate_uscc(value):
    reason = identifiers.check_uscc(value)
    if reason:
        raise ValidationError(f"统一社会信用代码无效：{reason}")


class Enterprise(RegulatedModel):
    """Enterprise 企业 — any regulated party, from manufacturer to clinic."""

    name = models.CharField("企业名称", max_length=200, db_index=True)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_uscc])
    type = models.CharField("企业类型", max_length=30, choices=EnterpriseType.choices, db_index=True)
    division = models.ForeignKey(
        Division, verbose_name="所在辖区", on_delete=models.PROTECT, to_field="code", related_name="enterprises"
    )
    address = models.CharField("住所/经营地址", max_length=300)
    legal_representative = models.CharField("法定代表人", max_length=64)
    contact_phone = models.CharField("联系电话", max_length=32, blank=True)
    scale = models.CharField("规模", max_length=10, choices=EnterpriseScale.choices, default=EnterpriseScale.SMALL)
    established_on = models.DateField("成立日期", null=True, blank=True)
    status = models.CharField(
        "经营状态", max_length=12, choices=EnterpriseStatus.choices, default=EnterpriseStatus.ACTIVE, db_index=True
    )

    scope_enterprise_fields = ("pk",)

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "企业"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("registry:enterprise-detail", args=[self.pk])

    def resolve_division_code(self) -> str:
        return self.division_id

    def clean(self):
        self.credit_code = identifiers.normalize(self.credit_code)


class Licence(RegulatedModel):
    """Licence 许可证 (or filing certificate) with scope and validity."""

    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="licences")
    type = models.CharField("许可证类型", max_length=30, choices=LicenceType.choices)
    number = models.CharField("许可证编号", max_length=64, unique=True)
    scope = models.TextField("许可范围", blank=True)
    issued_on = models.DateField("发证日期")
    valid_until = models.DateField("有效期至")
    status = models.CharField("状态", max_length=12, choices=LicenceStatus.choices, default=LicenceStatus.VALID)

    class Meta:
        ordering = ["-valid_until"]
        verbose_name = verbose_name_plural = "许可证"

    def __str__(self):
        return f"{self.get_type_display()} {self.number}"

    def get_absolute_url(self):
        return reverse("registry:licence-detail", args=[self.pk])

    def clean(self):
        if self.issued_on and self.valid_until and self.valid_until < self.issued_on:
            raise ValidationError({"valid_until": "有效期至不能早于发证日期"})

    @property
    def is_expired(self) -> bool:
        return self.valid_until < timezone.localdate()


class Product(RegulatedModel):
    """Product 品种 — a drug, device or cosmetic with its approval/registration/filing number."""

    category = models.CharField("产品类别", max_length=10, choices=ProductCategory.choices, db_index=True)
    name = models.CharField("产品名称", max_length=200, db_index=True)
    approval_number = models.CharField("批准文号/注册证号/备案号", max_length=64, unique=True)
    holder = models.ForeignKey(
        Enterprise, verbose_name="持有人/注册人", on_delete=models.PROTECT, related_name="held_products"
    )
    manufacturer = models.ForeignKey(
        Enterprise,
        verbose_name="生产企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="manufactured_products",
    )
    dosage_form = models.CharField("剂型/型号", max_length=64, blank=True)
    specification = models.CharField("规格", max_length=128, blank=True)
    drug_type = models.CharField("药品类型", max_length=12, choices=DrugType.choices, blank=True)
    device_class = models.CharField("器械管理类别", max_length=1, choices=DeviceClass.choices, blank=True)
    is_prescription = models.BooleanField("处方药", default=False)
    # Risk attributes 风险属性 used by the risk portrait.
    is_vaccine = models.BooleanField("疫苗", default=False)
    is_blood_product = models.BooleanField("血液制品", default=False)
    is_injection = models.BooleanField("注射剂", default=False)
    is_sterile_device = models.BooleanField("无菌器械", default=False)
    is_implant = models.BooleanField("植入器械", default=False)
    is_paediatric = models.BooleanField("儿童用药", default=False)
    is_narcotic_psychotropic = models.BooleanField("麻醉/精神药品", default=False)
    is_cold_chain = models.BooleanField("冷链", default=False)

    scope_enterprise_fields = ("holder_id", "manufacturer_id")

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "产品"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("registry:product-detail", args=[self.pk])

    def resolve_division_code(self) -> str:
        return self.holder.division_id

    def clean(self):
        self.approval_number = identifiers.normalize(self.approval_number).replace(" ", "")
        if self.category and self.approval_number:
            reason = identifiers.check_product_number(self.category, self.approval_number)
            if reason:
                raise ValidationError({"approval_number": f"编号无效：{reason}"})

    @property
    def risk_attributes(self) -> list[str]:
        flags = [
            "is_vaccine",
            "is_blood_product",
            "is_injection",
            "is_sterile_device",
            "is_implant",
            "is_paediatric",
            "is_narcotic_psychotropic",
            "is_cold_chain",
        ]
        return [str(self._meta.get_field(f).verbose_name) for f in flags if getattr(self, f)]


class Registration(RegulatedModel):
    """Product registration 产品注册 — an approval, registration certificate or filing, with validity."""

    product = models.ForeignKey(Product, verbose_name="产品", on_delete=models.PROTECT, related_name="registrations")
    kind = models.CharField("类别", max_length=14, choices=RegistrationKind.choices)
    number = models.CharField("证书编号", max_length=64)
    issued_on = models.DateField("批准日期")
    valid_until = models.DateField("有效期至", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=RegistrationStatus.choices, default=RegistrationStatus.VALID
    )

    scope_enterprise_fields = ("product__holder_id", "product__manufacturer_id")

    class Meta:
        ordering = ["-issued_on"]
        verbose_name = verbose_name_plural = "产品注册"
        constraints = [models.UniqueConstraint(fields=["number", "issued_on"], name="registration_natural_key")]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("registry:product-detail", args=[self.product_id])

    def resolve_division_code(self) -> str:
        return self.product.division_code or self.product.resolve_division_code()


class Batch(RegulatedModel):
    """Batch 批次 of a product."""

    product = models.ForeignKey(Product, verbose_name="产品", on_delete=models.PROTECT, related_name="batches")
    batch_number = models.CharField("批号", max_length=64)
    manufactured_on = models.DateField("生产日期", null=True, blank=True)
    expires_on = models.DateField("有效期至", null=True, blank=True)
    quantity = models.PositiveIntegerField("数量", null=True, blank=True)

    scope_enterprise_fields = ("product__holder_id", "product__manufacturer_id")

    class Meta:
        ordering = ["-manufactured_on"]
        verbose_name = verbose_name_plural = "批次"
        constraints = [models.UniqueConstraint(fields=["product", "batch_number"], name="batch_natural_key")]

    def __str__(self):
        return f"{self.product} 批号{self.batch_number}"

    def get_absolute_url(self):
        return reverse("registry:product-detail", args=[self.product_id])

    def resolve_division_code(self) -> str:
        return self.product.division_code or self.product.resolve_division_code()


class ProductPackage(RegulatedModel):
    """Packaging level 药品包装规格 of a drug and its 药品标识码, the first 7 digits of its 药品追溯码 at this level."""

    product = models.ForeignKey(Product, verbose_name="产品", on_delete=models.PROTECT, related_name="packages")
    level = models.PositiveSmallIntegerField("包装级别", choices=PackageLevel.choices)
    identifier = models.CharField("药品标识码", max_length=7, unique=True, validators=[validate_identifier])
    package_specification = models.CharField("包装规格", max_length=128, blank=True, help_text="如 24粒/盒、20盒/箱")
    units_per_pack = models.PositiveIntegerField(
        "内含下级包装数", null=True, blank=True, help_text="中包装、外箱内含的下一级包装数量"
    )
    split_units = models.PositiveSmallIntegerField(
        "拆零单位数", null=True, blank=True, help_text="最小销售单元可拆零销售的单位数（医保拆零扫码上限）"
    )
    is_active = models.BooleanField("启用", default=True)

    scope_enterprise_fields = ("product__holder_id", "product__manufacturer_id")

    class Meta:
        ordering = ["product", "level"]
        verbose_name = verbose_name_plural = "药品包装规格"
        constraints = [models.UniqueConstraint(fields=["product", "level"], name="package_level_per_product")]

    def __str__(self):
        return f"{self.product} {self.get_level_display()} {self.identifier}"

    def get_absolute_url(self):
        return reverse("registry:product-detail", args=[self.product_id])

    def resolve_division_code(self) -> str:
        return self.product.division_code or self.product.resolve_division_code()

    def clean(self):
        errors = level_errors(self.level, self.split_units, self.units_per_pack)
        if self.product_id and self.product.category != ProductCategory.DRUG:
            errors["product"] = "药品标识码只用于药品"
        if errors:
            raise ValidationError(errors)
