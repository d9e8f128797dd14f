"""Argument types shared by the ``yaojian`` commands 命令行参数类型."""

import datetime

from django.core.management.base import CommandError


def date_argument(text: str) -> datetime.date:
    """``--as-of 2026-11-24``-style dates, refused with the expected form."""
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{text}") from None
