from django.apps import AppConfig


class SentinelConfig(AppConfig):
    name = "yaojian.sentinel"
    verbose_name = "哨点与聚集性信号"
