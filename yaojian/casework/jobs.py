"""Daily job of case work 病例处理每日作业, run by the scheduler before the risk recomputation."""

import datetime

from . import coding, dedupe


def daily(as_of: datetime.date, now: datetime.datetime) -> str:
    coded = coding.code_pending()
    pairs = dedupe.find_duplicates()
    return f"术语编码 {coded.coded}/{coded.pending}；疑似重复新增 {pairs.created} 对"
