from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "yaojian.risk"
    label = "risk"
    verbose_name = "风险画像"
