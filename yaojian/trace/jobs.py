"""Daily job of traceability 追溯每日作业: the day's ingest files merged (合并小文件), then the anomaly scan with its
leads into the queue."""

import datetime

from .leads import scan_and_save
from .queries import default_engine
from .store import Store, default_root
from .thresholds import active_config


def daily(as_of: datetime.date, now: datetime.datetime) -> str:
    compacted = Store(default_root()).compact()
    result = scan_and_save(default_root(), engine=default_engine())
    saved = f"，新增 {result.saved.created} 条" if result.saved else ""
    return (
        f"{compacted.summary()}；追溯异常线索 {result.table.num_rows} 条{saved}（线索阈值 v{active_config().version}）"
    )
