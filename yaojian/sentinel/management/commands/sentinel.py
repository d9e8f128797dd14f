"""``yaojian sentinel detect|escalate|demo`` — clustered signals and the 24-hour response（命令行）.

- ``detect [--as-of DATE] [--days N] [--division CODE] [--layer rule|scan]``: the daily detection (rule layer
  and space-time scan) for a day (default today; with ``--days`` the N days ending on it, oldest first).
  Re-running a day changes nothing; a growing cluster is updated; a new cluster opens its response.
- ``escalate [--now ISO-DATETIME]``: mark the response tasks whose 24-hour clock has run out as escalated and
  report them to the next-level jurisdiction (run it periodically, e.g. every 15 minutes).
- ``demo [--division CODE] [--sites N] [--seed N] [--as-of DATE]``: demo sentinel sites, reports and planted
  clusters (needs the generated enterprises: ``yaojian generate`` / ``yaojian demo`` first).
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from yaojian.core.management.arguments import date_argument
from yaojian.core.models import Division
from yaojian.sentinel import demo, detection, services
from yaojian.sentinel.models import Layer


def _moment(text: str) -> datetime.datetime:
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"时间格式应为 YYYY-MM-DDTHH:MM：{text}") from None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


class Command(BaseCommand):
    help = "哨点与聚集性信号：detect 每日检测；escalate 超时升级；demo 生成演示数据"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        detect = sub.add_parser("detect", help="按日检测聚集性信号（规则层 + 时空扫描；同一天重复运行结果不变）")
        detect.add_argument("--as-of", type=date_argument, help="检测日期（默认今天）")
        detect.add_argument("--days", type=int, default=1, help="连续检测截至该日的天数（默认 1）")
        detect.add_argument("--division", default="", help="只检测该辖区（行政区划代码，默认全部）")
        detect.add_argument("--layer", choices=[layer.value for layer in Layer], help="只运行一层（默认两层）")
        escalate = sub.add_parser("escalate", help="超过时限未完成的处置任务升级上报上一级")
        escalate.add_argument("--now", type=_moment, help="按此时间判断（默认当前时间）")
        dem = sub.add_parser("demo", help="在辖区药店/诊所中登记哨点，生成哨点报告并植入聚集性信号")
        dem.add_argument("--division", default="320106", help="行政区划代码（默认 320106 鼓楼区）")
        dem.add_argument("--sites", type=int, default=12, help="哨点数（默认 12）")
        dem.add_argument("--seed", type=int, default=1)
        dem.add_argument("--as-of", type=date_argument, help="最后一天（默认今天）")

    def handle(self, *args, action, **options):
        if action == "detect":
            prefix = ""
            if options["division"]:
                division = Division.objects.filter(code=options["division"]).first()
                if division is None:
                    raise CommandError(f"未知行政区划：{options['division']}")
                prefix = division.prefix
            layers = (options["layer"],) if options["layer"] else (Layer.RULE, Layer.SCAN)
            last = options["as_of"] or timezone.localdate()
            for back in range(max(options["days"], 1) - 1, -1, -1):
                day = last - datetime.timedelta(days=back)
                # A past day is detected as of the end of that day; today as of now.
                now = (
                    timezone.now()
                    if day == timezone.localdate()
                    else timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59)))
                )
                result = detection.detect(day, now=now, prefix=prefix, layers=layers)
                self.stdout.write(f"{day}：{result}")
        elif action == "escalate":
            escalations = services.escalate(now=options["now"] or timezone.now())
            self.stdout.write(f"超时升级 {len(escalations)} 项")
            for escalation in escalations:
                self.stdout.write(f"  {escalation.note}")
        else:
            try:
                summary = demo.generate_sentinels(
                    division=options["division"],
                    sites=options["sites"],
                    seed=options["seed"],
                    as_of=options["as_of"],
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(str(summary))
