from django.apps import AppConfig


class EnforcementConfig(AppConfig):
    name = "yaojian.enforcement"
    label = "enforcement"
    verbose_name = "行政处罚"
