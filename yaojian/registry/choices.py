from django.db import models


class EnterpriseType(models.TextChoices):
    """Enterprise types 企业类型 across medicines, devices and cosmetics (两品一械)."""

    DRUG_MANUFACTURER = "drug_manufacturer", "药品生产企业"
    DRUG_WHOLESALER = "drug_wholesaler", "药品批发企业"
    RETAIL_CHAIN = "retail_chain", "药品零售连锁企业"
    RETAIL_PHARMACY = "retail_pharmacy", "药品零售企业"
    MEDICAL_INSTITUTION = "medical_institution", "医疗机构"
    CLINIC = "clinic", "诊所"
    AESTHETICS = "aesthetics", "医疗美容机构"
    DEVICE_MANUFACTURER = "device_manufacturer", "医疗器械生产企业"
    DEVICE_TRADER = "device_trader", "医疗器械经营企业"
    COSMETICS_MANUFACTURER = "cosmetics_manufacturer", "化妆品生产企业"
    COSMETICS_TRADER = "cosmetics_trader", "化妆品经营企业"


class EnterpriseStatus(models.TextChoices):
    ACTIVE = "active", "在业"
    SUSPENDED = "suspended", "停业"
    CLOSED = "closed", "注销"
    REVOKED = "revoked", "吊销"


class EnterpriseScale(models.TextChoices):
    SMALL = "small", "小型"
    MEDIUM = "medium", "中型"
    LARGE = "large", "大型"


class LicenceType(models.TextChoices):
    DRUG_MANUFACTURING = "drug_manufacturing", "药品生产许可证"
    DRUG_WHOLESALE = "drug_wholesale", "药品经营许可证（批发）"
    DRUG_RETAIL = "drug_retail", "药品经营许可证（零售）"
    MEDICAL_INSTITUTION = "medical_institution", "医疗机构执业许可证"
    DEVICE_MANUFACTURING = "device_manufacturing", "医疗器械生产许可证"
    DEVICE_TRADE = "device_trade", "医疗器械经营许可证"
    DEVICE_TRADE_FILING = "device_trade_filing", "第二类医疗器械经营备案凭证"
    COSMETICS_MANUFACTURING = "cosmetics_manufacturing", "化妆品生产许可证"


class LicenceStatus(models.TextChoices):
    VALID = "valid", "有效"
    EXPIRED = "expired", "已过期"
    SUSPENDED = "suspended", "暂停"
    REVOKED = "revoked", "注销/吊销"


class ProductCategory(models.TextChoices):
    DRUG = "drug", "药品"
    DEVICE = "device", "医疗器械"
    COSMETIC = "cosmetic", "化妆品"


class DrugType(models.TextChoices):
    CHEMICAL = "chemical", "化学药"
    TCM = "tcm", "中药"
    BIOLOGICAL = "biological", "生物制品"


class DeviceClass(models.TextChoices):
    I = "1", "第一类"  # noqa: E741 — the class's own name
    II = "2", "第二类"
    III = "3", "第三类"


class RegistrationKind(models.TextChoices):
    APPROVAL = "approval", "药品注册批准"
    REGISTRATION = "registration", "注册证"
    FILING = "filing", "备案"
    RENEWAL = "renewal", "再注册/延续"


class RegistrationStatus(models.TextChoices):
    VALID = "valid", "有效"
    EXPIRED = "expired", "已过期"
    CANCELLED = "cancelled", "注销"


class PackageLevel(models.IntegerChoices):
    """Packaging level 包装级别: each level of a drug has its own 药品标识码 (NMPAB/T 1002-2019)."""

    UNIT = 0, "最小销售单元"
    CASE = 1, "中包装/箱"
    PALLET = 2, "外箱/托盘"
