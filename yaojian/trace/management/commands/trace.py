"""``yaojian trace`` — the trace event store from the command line 药品追溯（命令行）.

* ``ingest FILE…`` EPCIS 2.0 JSON/JSON-LD/XML, trace data set CSV or Parquet (layout of yaojian/trace/store.py):
  accepted, duplicate and refused events per file, with the reasons of each refusal; 药品追溯码 are checked against
  the registered 药品标识码 (``--no-registry`` skips that);
* ``recall BATCH [--product 药品标识码]`` who now holds units of the batch, with quantities (召回范围);
* ``code CODE`` every event of a code, through its case and pallet (追溯码历史);
* ``scan --out leads.csv`` the anomaly scans (触发式追溯线索), every lead with kind, code, parties, times, evidence;
* ``compact`` merge each day's ingest files and each index into one sorted file (合并小文件; also a daily job).

Each takes ``--engine duckdb|spark`` (default: setting YAOJIAN_TRACE_ENGINE) and ``--root`` (default: setting
YAOJIAN_TRACE_DIR).
"""

import datetime as dt
import hashlib
import time

from django.core.management.base import BaseCommand, CommandError

from yaojian.registry.packaging import identifier_levels
from yaojian.trace.codes import CodeError, code_uri
from yaojian.trace.ingest import ingest_file, record_ingest
from yaojian.trace.leads import scan_and_save, write_leads_csv
from yaojian.trace.queries import ENGINES, STATE_LABELS, Queries, default_engine
from yaojian.trace.store import Store


def _iso(micros: int | None) -> str:
    if micros is None:
        return ""
    return dt.datetime.fromtimestamp(micros / 1e6, dt.timezone(dt.timedelta(hours=8))).isoformat(timespec="seconds")


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Command(BaseCommand):
    help = "药品追溯：ingest 导入事件；recall 批次召回范围；code 追溯码历史；scan 异常扫描生成线索；compact 合并小文件"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ingest = sub.add_parser("ingest", help="导入 EPCIS JSON/XML、追溯数据集 CSV 或 Parquet 文件")
        ingest.add_argument("files", nargs="+", metavar="FILE")
        ingest.add_argument(
            "--no-registry",
            action="store_true",
            help="不按药品注册库核对药品标识码（注册库尚无包装规格时，如分析用的独立事件库）",
        )
        recall = sub.add_parser("recall", help="批次召回范围：现持有该批次的各单位及数量")
        recall.add_argument("batch", metavar="BATCH", help="批号")
        recall.add_argument("--product", help="药品标识码（7 位），批号在多个品种间重复时指定")
        code = sub.add_parser("code", help="追溯码全部事件（含所在箱、托盘的事件）")
        code.add_argument("code", metavar="CODE")
        scan = sub.add_parser("scan", help="异常扫描：输出每条线索（类型、追溯码、主体、时间、证据）")
        scan.add_argument("--out", help="另存线索 CSV")
        scan.add_argument("--no-save", action="store_true", help="只输出 CSV，不写入线索队列")
        compact = sub.add_parser("compact", help="合并小文件：每日分区、各索引各合并为一个按码排序的文件")
        for p in (ingest, recall, code, scan):
            p.add_argument("--engine", choices=ENGINES, help="查询引擎（默认按设置 YAOJIAN_TRACE_ENGINE）")
        for p in (ingest, recall, code, scan, compact):
            p.add_argument("--root", help="事件库目录（默认按设置 YAOJIAN_TRACE_DIR）")

    def handle(self, *args, **options):
        store = Store(options["root"])
        getattr(self, "do_" + options["action"])(store, options)

    def do_ingest(self, store, options):
        # Codes are checked against the registered 药品标识码 and their packaging levels, as the upload page does.
        registry = None if options["no_registry"] else identifier_levels()
        refused = 0
        for path in options["files"]:
            try:
                report = ingest_file(path, store, registry)
                record_ingest(report, _sha256(path))  # the command line acts as the system (no actor)
            except OSError as exc:
                raise CommandError(f"无法读取 {path}：{exc}") from None
            self.stdout.write(report.summary())
            for reason in report.reasons:
                self.stdout.write(f"  拒收原因：{reason}")
            refused += bool(report.reasons)
        if refused:
            raise CommandError(f"{refused} 个文件被拒收，未写入任何数据")

    def do_recall(self, store, options):
        rows = self._queries(store, options).recall(options["batch"], options.get("product"))
        if not rows:
            raise CommandError(f"事件库中没有批号 {options['batch']} 的赋码记录")
        self.stdout.write("持有单位\t状态\t数量（最小包装）\t最近事件时间")
        for r in rows:
            self.stdout.write(f"{r['holder']}\t{STATE_LABELS[r['state']]}\t{r['units']}\t{_iso(r['last_tus'])}")

    def do_code(self, store, options):
        try:
            code = code_uri(options["code"])
        except CodeError as exc:
            raise CommandError(f"追溯码无效：{exc.reason}") from None
        rows = self._queries(store, options).history(code)
        if not rows:
            raise CommandError(f"事件库中没有追溯码 {code} 的事件")
        self.stdout.write("时间\t业务步骤\t角色\t追溯码\t经由\t业务位置\t来源\t去向")
        for r in rows:
            cells = (_iso(r["tus"]), r["biz_step"] or r["event_type"], r["role"], r["epc"], r["via"] or "",
                     r["biz_location"] or "", r["source_owner"] or "", r["destination_owner"] or "")  # fmt: skip
            self.stdout.write("\t".join(cells))

    def do_scan(self, store, options):
        if options["no_save"] and not options["out"]:
            raise CommandError("--no-save 须与 --out 同用，否则扫描结果无处可去")
        started = time.perf_counter()
        leads = scan_and_save(store.root, engine=options["engine"] or default_engine(), save=not options["no_save"])
        self.stdout.write(f"线索 {leads.table.num_rows} 条，用时 {time.perf_counter() - started:.1f} 秒")
        if leads.saved:
            self.stdout.write(f"线索队列：新增 {leads.saved.created} 条，已有 {leads.saved.seen} 条")
        if options["out"]:
            with open(options["out"], "w", newline="", encoding="utf-8") as fh:
                write_leads_csv(leads.table, fh)
            self.stdout.write(f"→ {options['out']}")

    def do_compact(self, store, options):
        self.stdout.write(store.compact().summary())

    def _queries(self, store, options):
        return Queries(store.root, options["engine"])
