from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "yaojian.casework"
    verbose_name = "病例处理"
