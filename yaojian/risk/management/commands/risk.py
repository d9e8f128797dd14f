"""``yaojian risk recompute|backtest`` — risk portrait jobs 风险画像计算与回测."""

import csv
import datetime
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yaojian.registry.models import Enterprise
from yaojian.risk import jobs, pushes, services


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}") from exc


class Command(BaseCommand):
    help = "风险画像：recompute 重算评分与级别；nightly 夜间作业；deliver 发送推送；backtest 回测预测效果"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rec = sub.add_parser("recompute", help="全量（或指定企业）重新计算")
        rec.add_argument("--as-of", type=_date, help="评估基准日（默认今天）")
        rec.add_argument("--enterprise", type=int, action="append", help="只计算这些企业（ID，可重复）")
        night = sub.add_parser("nightly", help="夜间作业：全量重算、规则判定、逾期督办、推送发送")
        night.add_argument("--as-of", type=_date)
        sub.add_parser("deliver", help="发送到期的部门推送消息")
        bt = sub.add_parser("backtest", help="回测：截止日评分 vs 其后一年的严重缺陷与抽检不合格")
        bt.add_argument("--cutoff", type=_date, required=True)
        bt.add_argument("--horizon-days", type=int, default=365)
        bt.add_argument("--ground-truth", type=Path, help="以生成器的真值文件（统一社会信用代码,is_bad_actor）为结局")

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
        if action == "deliver":
            delivered, undelivered = pushes.deliver_due()
            self.stdout.write(f"推送送达 {delivered}，待重试或失败 {undelivered}")
            return
        labels = self._labels(options["ground_truth"]) if options["ground_truth"] else None
        r = services.backtest(options["cutoff"], options["horizon_days"], labels)
        self.stdout.write(
            f"截止日 {r.cutoff}，观察期 {r.horizon_days} 天，企业 {r.enterprises} 家，阳性 {r.positives} 家"
            f"（基线 {r.base_rate:.3f}）\nROC AUC = {r.auc:.4f}\n前10%精确率 = {r.precision_at_10:.4f}"
        )

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
