from django.apps import AppConfig


class TraceConfig(AppConfig):
    name = "yaojian.trace"
    label = "trace"
    verbose_name = "药品追溯"
