from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "yaojian.signals"
    label = "signals"
    verbose_name = "信号检测"
