from django.apps import AppConfig


class SamplingConfig(AppConfig):
    name = "yaojian.sampling"
    label = "sampling"
    verbose_name = "抽检"
