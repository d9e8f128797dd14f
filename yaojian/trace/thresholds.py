"""Thresholds of the anomaly scans 追溯线索阈值: the active published version, publishing a new one, and its form.

The values and their defaults (with why) are :class:`yaojian.trace.anomalies.Thresholds`; a version stores them as
JSON (``ThresholdConfig``, a :class:`yaojian.core.models.VersionedParameters`), published with an audit record by
:func:`yaojian.core.services.publish_version`. Regulators who may raise leads publish; lead readers read.
"""

from __future__ import annotations

import dataclasses

from django.core.exceptions import PermissionDenied
from django.db import transaction

from yaojian.core import access
from yaojian.core.forms import ParametersForm
from yaojian.core.services import publish_version

from .anomalies import Thresholds
from .models import ThresholdConfig

DEFAULTS = Thresholds().values()

# (parameter, label, kind, minimum, maximum): ranges a regulator may set without making a rule meaningless (a speed
# below lorry pace flags every delivery between provinces; a ratio below 1 or a z-score below 1 is no outlier; one
# week or one seller is no baseline).
PARAMETERS = (
    ("max_speed_kmh", "异常流转：最高合理运输速度（公里/小时）", float, 50.0, 1200.0),
    ("volume_min_units", "异常销量：周销量下限（盒，低于此数不判异常）", int, 1, 100_000),
    ("volume_ratio", "异常销量：不低于中位数的倍数", float, 1.0, 100.0),
    ("volume_z", "异常销量：稳健 z 分数下限", float, 1.0, 50.0),
    ("volume_min_history", "异常销量：基线最少周数/同周销售方数", int, 2, 104),
)


def active_config() -> ThresholdConfig:
    """The active version; the defaults become version 1 on first use (also in an emptied test database)."""
    config = ThresholdConfig.objects.filter(is_active=True).order_by("-version").first()
    if config is None:
        config, _created = ThresholdConfig.objects.get_or_create(
            version=1, defaults={"parameters": dict(DEFAULTS), "note": "默认阈值（系统初始）", "is_active": True}
        )
    return config


def thresholds_of(config: ThresholdConfig) -> Thresholds:
    """The scan thresholds of a stored version (defaults for names added after it was stored)."""
    kinds = {name: kind for name, _label, kind, *_ in PARAMETERS}
    values = {name: kinds[name](config.parameters.get(name, default)) for name, default in DEFAULTS.items()}
    return Thresholds(**values, version=config.version)


def active_thresholds() -> Thresholds:
    return thresholds_of(active_config())


@transaction.atomic
def publish_thresholds(values: dict, *, actor, note: str = "") -> ThresholdConfig:
    """Store a new version of the thresholds (missing names keep the active version's) and make it the active
    one; audited with the before and after values."""
    if actor is not None and not access.has_perm(actor, ThresholdConfig, access.ADD):
        raise PermissionDenied("无此操作权限")
    current = active_config()
    merged = dataclasses.replace(thresholds_of(current), **values).values()
    return publish_version(current, merged, actor=actor, note=note)


class ThresholdForm(ParametersForm):
    """A new version of the thresholds 线索阈值, each within its range."""

    parameter_fields = PARAMETERS
