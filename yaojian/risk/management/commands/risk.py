"""``yaojian risk recompute|nightly|deliver|scheduler|backtest`` — risk portrait jobs 风险画像计算、调度与回测."""

import csv
import datetime
import logging
import signal
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from yaojian.core.management.arguments import date_argument
from yaojian.registry.models import Enterprise
from yaojian.risk import jobs, pushes, scheduler, services


class Command(BaseCommand):
    help = (
        "风险画像：recompute 重算评分与级别；nightly 夜间作业；deliver 发送推送；"
        "scheduler 常驻调度（按计划执行夜间作业并定时发送推送）；backtest 回测预测效果"
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rec = sub.add_parser("recompute", help="全量（或指定企业）重新计算")
        rec.add_argument("--as-of", type=date_argument, help="评估基准日（默认今天）")
        rec.add_argument("--enterprise", type=int, action="append", help="只计算这些企业（ID，可重复）")
        night = sub.add_parser("nightly", help="夜间作业：全量重算、规则判定、逾期督办、推送发送")
        night.add_argument("--as-of", type=date_argument)
        sub.add_parser("deliver", help="发送到期的部门推送消息")
        sch = sub.add_parser("scheduler", help="常驻调度进程：按 cron 表达式执行夜间作业，并定时发送推送")
        sch.add_argument(
            "--schedule",
            help=f"cron 表达式（分 时 日 月 星期），默认 YAOJIAN_RISK_SCHEDULE 或 {scheduler.DEFAULT_SCHEDULE!r}",
        )
        sch.add_argument(
            "--deliver-minutes", type=float, help="推送发送间隔（分钟），默认 YAOJIAN_RISK_DELIVER_MINUTES 或 5"
        )
        sch.add_argument("--next", type=int, metavar="N", help="只列出接下来 N 次夜间作业时间后退出")
        bt = sub.add_parser("backtest", help="回测：截止日评分 vs 其后一年的严重缺陷与抽检不合格")
        bt.add_argument("--cutoff", type=date_argument, required=True)
        bt.add_argument("--horizon-days", type=int, default=365)
        bt.add_argument("--ground-truth", type=Path, help="以生成器的真值文件（统一社会信用代码,is_bad_actor）为结局")
        bt.add_argument("--products", action="store_true", help="回测产品风险：其后的产品抽检不合格与死亡病例报告")

    def handle(self, *args, action, **options):
        started = time.perf_counter()
        if action == "recompute":
            result = services.recompute(as_of=options["as_of"], enterprise_ids=options["enterprise"])
            self.stdout.write(
                f"评分 {result.scored} 家，变化 {result.changed} 家，级别变更 {result.level_changes} 家，"
                f"参数版本 v{result.config_version}，用时 {time.perf_counter() - started:.2f} 秒"
            )
            return
        if action == "nightly":
            r = jobs.nightly(options["as_of"])
            self.stdout.write(
                f"评分 {r.recompute.scored} 家（变化 {r.recompute.changed}）；"
                f"规则触发 {r.rules.fired}、解除 {r.rules.cleared}；"
                f"逾期督办 {r.escalated} 件；推送送达 {r.delivered}、待重试 {r.undelivered}；"
                f"用时 {time.perf_counter() - started:.2f} 秒"
            )
            return
        if action == "scheduler":
            self._scheduler(options)
            return
        if action == "deliver":
            delivered, undelivered = pushes.deliver_due()
            self.stdout.write(f"推送送达 {delivered}，待重试或失败 {undelivered}")
            return
        if options["products"]:
            r, what, unit = services.backtest_products(options["cutoff"], options["horizon_days"]), "产品", "个"
        else:
            labels = self._labels(options["ground_truth"]) if options["ground_truth"] else None
            r, what, unit = services.backtest(options["cutoff"], options["horizon_days"], labels), "企业", "家"
        self.stdout.write(
            f"截止日 {r.cutoff}，观察期 {r.horizon_days} 天，{what} {r.enterprises} {unit}，阳性 {r.positives} {unit}"
            f"（基线 {r.base_rate:.3f}）\nROC AUC = {r.auc:.4f}\n前10%精确率 = {r.precision_at_10:.4f}"
        )

    def _scheduler(self, options) -> None:
        try:
            schedule = (
                scheduler.CronSchedule.parse(options["schedule"])
                if options["schedule"]
                else scheduler.configured_schedule()
            )
        except ValueError as exc:
            raise CommandError(f"调度表达式无效：{exc}") from exc
        if options["next"]:
            moment = timezone.now()
            for _ in range(options["next"]):
                moment = schedule.next_after(moment)
                self.stdout.write(moment.isoformat())
            return
        every = (
            datetime.timedelta(minutes=options["deliver_minutes"])
            if options["deliver_minutes"]
            else scheduler.configured_deliver_interval()
        )
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        loop = scheduler.Scheduler(schedule, every)
        signal.signal(signal.SIGTERM, loop.stop)
        signal.signal(signal.SIGINT, loop.stop)
        self.stdout.write(
            f"调度已启动（{options['schedule'] or '按配置'}，推送每 {every.total_seconds() / 60:g} 分钟）"
        )
        loop.run()
        self.stdout.write("调度已停止")

    @staticmethod
    def _labels(path: Path) -> dict[int, bool]:
        if not path.exists():
            raise CommandError(f"找不到真值文件：{path}")
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"credit_code", "is_bad_actor"} - set(reader.fieldnames or [])
            if missing:
                raise CommandError(f"真值文件缺少列：{'、'.join(sorted(missing))}")
            truth = {row["credit_code"]: row["is_bad_actor"].strip().lower() in ("1", "true", "yes") for row in reader}
        ids = dict(Enterprise.objects.filter(credit_code__in=truth).values_list("credit_code", "pk"))
        return {pk: truth[code] for code, pk in ids.items()}
