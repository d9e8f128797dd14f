from django.db import models


class InspectionKind(models.TextChoices):
    GMP = "gmp", "GMP符合性检查"
    GSP = "gsp", "GSP检查"
    GCP = "gcp", "GCP检查"
    GVP = "gvp", "GVP检查"
    GDP = "gdp", "GDP检查"
    DAILY = "daily", "日常监督检查"
    FLYING = "flying", "飞行检查"


class Conclusion(models.TextChoices):
    """Conclusions per 《药品检查管理办法（试行）》 (regulatory-rules.md §4(a))."""

    COMPLIANT = "compliant", "符合要求"
    BASICALLY_COMPLIANT = "basically", "基本符合要求"
    NON_COMPLIANT = "non_compliant", "不符合要求"
    PENDING = "pending", "待定"


class DefectGrade(models.TextChoices):
    CRITICAL = "critical", "严重缺陷"
    MAJOR = "major", "主要缺陷"
    MINOR = "minor", "一般缺陷"
