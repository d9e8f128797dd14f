from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "yaojian.inspections"
    label = "inspections"
    verbose_name = "监督检查"
