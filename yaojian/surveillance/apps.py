from django.apps import AppConfig


class SurveillanceConfig(AppConfig):
    name = "yaojian.surveillance"
    label = "surveillance"
    verbose_name = "聚集性信号与症候群监测"
