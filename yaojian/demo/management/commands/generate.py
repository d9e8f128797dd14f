"""``yaojian generate --scale district|province|tiny --seed N`` — synthetic demo data 演示数据."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yaojian.core.identifiers import check_division_code
from yaojian.core.models import Division
from yaojian.demo import generator


class Command(BaseCommand):
    help = "生成确定性的演示数据（区县/省级规模），可输出潜在违规企业真值文件"

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(generator.SCALES), default="district")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--division", help="行政区划代码（默认：区县规模 320106，省级规模 320000）")
        parser.add_argument(
            "--ground-truth", type=Path, help="潜在违规企业真值 CSV 的输出路径（另写 …-signals.csv：植入的信号）"
        )

    def handle(self, *args, scale, seed, division, ground_truth, **options):
        if division:
            reason = check_division_code(division)
            if reason or not Division.objects.filter(code=division).exists():
                raise CommandError(f"行政区划代码“{division}”无效：{reason or '不在代码表中'}")
        started = time.perf_counter()
        plan = generator.generate(scale=scale, seed=seed, division=division)
        self.stdout.write(generator.summary(plan))
        self.stdout.write(str(generator.finish(plan)))
        self.stdout.write(f"用时 {time.perf_counter() - started:.1f} 秒")
        if ground_truth:
            n = generator.write_ground_truth(plan, ground_truth)
            self.stdout.write(f"真值文件：{ground_truth}（{n} 家潜在违规企业）")
            signals = ground_truth.with_name(f"{ground_truth.stem}-signals.csv")
            m = generator.write_signal_truth(plan, signals)
            self.stdout.write(f"信号真值文件：{signals}（{m} 个药品—不良反应组合）")
