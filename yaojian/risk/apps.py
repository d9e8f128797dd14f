from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "yaojian.risk"
    label = "risk"
    verbose_name = "风险画像"

    def ready(self):
        from yaojian.core.services import records_changed

        from .jobs import on_records_changed

        records_changed.connect(on_records_changed, dispatch_uid="risk-incremental")
