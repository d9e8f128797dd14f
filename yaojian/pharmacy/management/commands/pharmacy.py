"""``yaojian pharmacy detect|purge|demo`` — smart-pharmacy early warning 智慧药店预警（命令行）.

- ``detect [--as-of DATE] [--days N]``: run the detectors for a day (default today; with ``--days`` the N days
  ending on it, oldest first) and file the alerts. Running it again for the same day changes nothing.
- ``purge [--today DATE] [--retention-days N]``: delete purchase records older than the retention period
  (default: the current 预警参数), keeping their daily counts; one audit record per purge.
- ``demo [--division CODE] [--days N] [--seed N] [--as-of DATE]``: demo purchases with a planted outbreak.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from yaojian.core.management.arguments import date_argument
from yaojian.pharmacy import demo, detection, services


class Command(BaseCommand):
    help = "智慧药店预警：detect 检测并生成预警；purge 删除超过保存期限的实名购药记录；demo 生成演示数据"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        detect = sub.add_parser("detect", help="按日检测并生成预警（同一天重复运行结果不变）")
        detect.add_argument("--as-of", type=date_argument, help="检测日期（默认今天）")
        detect.add_argument("--days", type=int, default=1, help="连续检测截至该日的天数（默认 1）")
        purge = sub.add_parser("purge", help="删除超过保存期限的实名购药记录（保留每日计数）")
        purge.add_argument("--today", type=date_argument, help="按此日期计算期限（默认今天）")
        purge.add_argument("--retention-days", type=int, help="保存天数（默认取预警参数）")
        dem = sub.add_parser("demo", help="为辖区药店生成演示购药数据（含植入的退热药聚集）并检测")
        dem.add_argument("--division", default="320106", help="行政区划代码（默认 320106 鼓楼区）")
        dem.add_argument("--days", type=int, default=120, help="天数（默认 120）")
        dem.add_argument("--seed", type=int, default=1)
        dem.add_argument("--as-of", type=date_argument, help="最后一天（默认今天）")
        dem.add_argument("--max-pharmacies", type=int, default=30, help="最多药店数（默认 30）")

    def handle(self, *args, action, **options):
        today = timezone.localdate()
        if action == "detect":
            last = options["as_of"] or today
            for offset in range(max(options["days"], 1) - 1, -1, -1):
                result = detection.detect(last - datetime.timedelta(days=offset))
                counts = f"新预警 {len(result.created)} 条，更新 {len(result.updated)} 条，撤销 {result.removed} 条"
                self.stdout.write(f"{result.day}：{counts}")
        elif action == "purge":
            deleted = services.purge(today=options["today"] or today, retention_days=options["retention_days"])
            self.stdout.write(f"已删除超过保存期限的实名购药记录 {deleted} 条（每日计数保留）")
        else:
            try:
                summary = demo.generate_purchases(
                    division=options["division"],
                    days=options["days"],
                    seed=options["seed"],
                    as_of=options["as_of"] or today,
                    max_pharmacies=options["max_pharmacies"],
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(str(summary))
