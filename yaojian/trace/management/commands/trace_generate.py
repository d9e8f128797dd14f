"""``yaojian trace_generate --events N --seed S --ground-truth F`` — synthetic trace flows 模拟追溯流向.

Writes about N event rows (event × EPC) into the event store (``--root``, default setting YAOJIAN_TRACE_DIR) with
planted anomalies of every kind, and the ground truth (kind, code, party) to F. ``--registry`` takes the parties and
drugs from the platform database (after ``yaojian generate``); otherwise synthetic parties of a province are used.
The generated store replaces any events already under the root; its code and hash indexes are rebuilt.
"""

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yaojian.trace import flows
from yaojian.trace.store import Store


class Command(BaseCommand):
    help = "生成模拟追溯事件（含植入异常及真值文件），写入事件库"

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=1_000_000, help="事件行数（约数，事件×追溯码）")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--per-kind", type=int, default=20, help="每类植入异常的数量")
        parser.add_argument("--days", type=int, default=365, help="时间跨度（天，≥ 120）")
        parser.add_argument("--ground-truth", type=Path, help="真值 CSV（kind,code,party）的输出路径")
        parser.add_argument("--root", type=Path, help="事件库目录（默认按设置 YAOJIAN_TRACE_DIR）")
        parser.add_argument("--registry", action="store_true", help="使用平台数据库中的企业与药品")
        parser.add_argument("--clean", action="store_true", help="不植入异常（用于检验误报）")
        parser.add_argument("--workers", type=int, default=1, help="并行生成的进程数（结果与进程数无关）")

    def handle(self, *args, events, seed, per_kind, days, ground_truth, root, registry, clean, workers, **options):
        if events < 1000 or days < 120:
            raise CommandError("事件数应 ≥ 1000，时间跨度应 ≥ 120 天")
        root = root or Path(settings.YAOJIAN_TRACE_DIR)
        started = time.perf_counter()
        world = flows.registry_world(seed) if registry else None
        result = flows.generate(
            root, events=events, seed=seed, per_kind=per_kind, days=days, world=world,
            ground_truth=ground_truth, clean=clean, workers=workers,
        )  # fmt: skip
        Store(root).reindex()  # the code and hash indexes, as an ingest would have written them
        self.stdout.write(
            f"事件行 {result.rows:,}（事件 {result.events:,}，托盘 {result.pallets:,}，最小包装 {result.units:,}），"
            f"植入异常 {len(result.truth)} 条，用时 {time.perf_counter() - started:.1f} 秒 → {root}"
        )
        if ground_truth:
            self.stdout.write(f"真值文件：{ground_truth}")
