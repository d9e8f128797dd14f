from django.apps import AppConfig


class PharmacyConfig(AppConfig):
    name = "yaojian.pharmacy"
    verbose_name = "智慧药店预警"
