"""Case-work parameters 病例处理参数: the active version, and publishing a new one (administrators)."""

from yaojian.core.services import publish_version

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


def publish_config(parameters: dict, *, actor, note: str = "") -> CaseworkConfig:
    """Store a new version of the parameters and make it the active one; audited."""
    current = active_config()
    return publish_version(current, {**DEFAULTS, **current.parameters, **parameters}, actor=actor, note=note)
