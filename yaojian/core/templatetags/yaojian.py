"""Template helpers 模板标签: record URLs and role checks, both through ``core.access``."""

from django import template
from django.urls import NoReverseMatch, reverse

from yaojian.core import access

register = template.Library()


@register.simple_tag
def record_url(obj, suffix: str) -> str:
    """URL ``<app>:<model>-<suffix>`` of a record (``edit``, ``delete``), or "" where there is none."""
    meta = obj._meta
    try:
        return reverse(f"{meta.app_label}:{meta.model_name}-{suffix}", args=[obj.pk])
    except NoReverseMatch:
        return ""


@register.simple_tag(takes_context=True)
def can(context, model_or_obj, action: str) -> bool:
    """May the current user ``action`` this kind of record (role check only; rows are already scoped)?"""
    model = model_or_obj if isinstance(model_or_obj, type) else type(model_or_obj)
    return access.has_perm(context["request"].user, model, action)


@register.simple_tag
def active_nav(nav_items, path: str) -> str:
    """URL of the menu entry that holds ``path``: the longest matching prefix (/enterprises/products/ over
    /enterprises/)."""
    matches = [item["url"] for item in nav_items if path.startswith(item["url"])]
    return max(matches, key=len, default="")
