from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "yaojian.registry"
    label = "registry"
    verbose_name = "主体与品种档案"
