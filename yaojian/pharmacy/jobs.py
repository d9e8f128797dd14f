"""Daily job of the smart-pharmacy warning 智慧药店每日作业: the day's detection, then the retention purge."""

import datetime

from . import detection, services


def daily(as_of: datetime.date, now: datetime.datetime) -> str:
    result = detection.detect(as_of)
    purged = services.purge(today=as_of)
    return f"药店预警：新增 {len(result.created)}，更新 {len(result.updated)}；超期记录删除 {purged} 条"
