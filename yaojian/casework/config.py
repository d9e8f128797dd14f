"""Case-work parameters 病例处理参数: the active version, and publishing a new one (administrators)."""

from django.db import transaction

from yaojian.core import audit
from yaojian.core.choices import AuditAction

from .models import DEFAULTS, CaseworkConfig


def active_config() -> CaseworkConfig:
    """The active version; the defaults become version 1 on first use (also in an emptied test database)."""
    config = CaseworkConfig.objects.filter(is_active=True).order_by("-version").first()
    if config is None:
        config, _created = CaseworkConfig.objects.get_or_create(
            version=1,
            defaults={"parameters": dict(DEFAULTS), "note": "法定时限与默认评分（系统初始）", "is_active": True},
        )
    return config


@transaction.atomic
def publish_config(parameters: dict, *, actor, note: str = "") -> CaseworkConfig:
    """Store a new version of the parameters and make it the active one; audited."""
    current = active_config()
    merged = {**DEFAULTS, **current.parameters, **parameters}
    config = CaseworkConfig.objects.create(
        version=current.version + 1, parameters=merged, note=note, is_active=True, created_by=actor
    )
    CaseworkConfig.objects.exclude(pk=config.pk).update(is_active=False)
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="casework.caseworkconfig",
        object_id=config.pk,
        object_repr=str(config),
        before={"version": current.version, "parameters": current.parameters},
        after={"version": config.version, "parameters": merged},
    )
    return config
