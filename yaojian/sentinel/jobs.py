"""Scheduled jobs of the sentinel app 哨点作业: daily cluster detection, frequent 24-hour-clock escalation."""

import datetime

from . import detection, services


def daily(as_of: datetime.date, now: datetime.datetime) -> str:
    return f"聚集性信号：{detection.detect(as_of, now=now)}"


def frequent(now: datetime.datetime) -> str:
    return f"超时升级 {len(services.escalate(now=now))} 项"
