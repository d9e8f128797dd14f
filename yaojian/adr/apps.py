from django.apps import AppConfig


class AdrConfig(AppConfig):
    name = "yaojian.adr"
    label = "adr"
    verbose_name = "不良反应"
