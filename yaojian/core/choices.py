from django.db import models


class DivisionLevel(models.TextChoices):
    PROVINCE = "province", "省级"
    CITY = "city", "市级"
    DISTRICT = "district", "区县级"


class Role(models.TextChoices):
    """Roles 角色. A regulator's level follows from the division it belongs to."""

    ADMIN = "admin", "系统管理员"
    REGULATOR = "regulator", "监管人员"
    INSPECTOR = "inspector", "检查员"
    ADR_ANALYST = "adr_analyst", "不良反应监测人员"
    ENTERPRISE = "enterprise", "企业用户"
    PARTNER = "partner", "协同部门"
    AUDITOR = "auditor", "审计员"


class PartnerDepartment(models.TextChoices):
    HEALTH = "health", "卫健"
    MEDICAL_INSURANCE = "insurance", "医保"
    SCIENCE = "science", "科技"
    FINANCE = "finance", "金融"


class AuditAction(models.TextChoices):
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"
    IMPORT = "import", "批量导入"
    REVEAL = "reveal", "查看明文"
