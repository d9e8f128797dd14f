from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "yaojian.credit"
    label = "credit"
    verbose_name = "信用评价"
