"""Import throughput 导入吞吐量基准: ADR reports through the import engine into a fresh database.

    .venv/bin/python benchmarks/import_adr.py                                  # SQLite, 1 000 000 rows
    bash scripts/with-postgres.sh .venv/bin/python benchmarks/import_adr.py    # PostgreSQL
    .venv/bin/python benchmarks/import_adr.py --rows 100000 --database-url postgres://…

The referenced enterprises, products and batches are imported first (through the same engine), then a
CSV of ``--rows`` ADR reports is generated and imported all-or-nothing. Timed: ``run_import`` alone
(reading, parsing, validating, resolving references, upserting, audit record, commit); ``--reimport``
also times a second import of the same file (every row an update). The database is a throw-away one:
a temporary SQLite file, or the PostgreSQL database given (its tables are created by ``migrate``).
"""

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERIOUSNESS, SEX, OUTCOME = ["一般", "严重", "死亡"], ["男", "女", "未知"], ["痊愈", "好转", "未好转", "不详"]
REACTIONS = ["皮疹", "头痛", "恶心", "呕吐", "过敏性休克", "肝功能异常", "发热", "瘙痒", "腹泻", "心悸"]


def write_csv(path: Path, header: list[str], rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def setup(work: Path, args) -> list[tuple[str, str, str]]:
    """Enterprises, products and batches the ADR rows reference; returns (credit code, approval, batch)."""
    from yaojian.core.identifiers import build_uscc
    from yaojian.core.models import Division
    from yaojian.imports.engine import run_import

    districts = list(Division.objects.filter(level="district", code__startswith="32").values_list("code", flat=True))
    enterprises = [
        [
            build_uscc(districts[i % len(districts)], f"8{i:07d}"),
            f"基准药业{i}有限公司",
            "药品生产企业",
            districts[i % len(districts)],
            f"示例路{i}号",
            "王某",
        ]
        for i in range(args.enterprises)
    ]
    write_csv(
        work / "ent.csv",
        ["统一社会信用代码", "企业名称", "企业类型", "行政区划代码", "住所/经营地址", "法定代表人"],
        enterprises,
    )
    products = [
        [f"国药准字H{20000000 + i}", "药品", f"基准产品{i}", enterprises[i % len(enterprises)][0]]
        for i in range(args.products)
    ]
    write_csv(
        work / "prod.csv", ["批准文号/注册证号/备案号", "产品类别", "产品名称", "持有人统一社会信用代码"], products
    )
    batches = [[p[0], f"B{j:03d}"] for p in products for j in range(args.batches)]
    write_csv(work / "batch.csv", ["产品批准文号", "批号"], batches)
    for kind, name in (("enterprise", "ent.csv"), ("product", "prod.csv"), ("batch", "batch.csv")):
        result = run_import(kind, work / name)
        assert result.ok, (kind, result.refused, result.errors[:5])
    return [(products[i][3], products[i][0], f"B{j:03d}") for i in range(len(products)) for j in range(args.batches)]


def adr_rows(n: int, refs, seed: int = 7):
    rng = random.Random(seed)
    for i in range(n):
        credit, approval, batch = refs[rng.randrange(len(refs))]
        day = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        yield [
            f"ADR-{i:09d}",
            credit,
            approval,
            batch,
            "南京市第一医院",
            day,
            day,
            rng.choice(REACTIONS),
            rng.choice(SERIOUSNESS),
            "否",
            rng.choice(SEX),
            str(rng.randint(1, 90)),
            rng.choice(OUTCOME),
        ]


ADR_HEADER = [
    "报告编码",
    "企业统一社会信用代码",
    "怀疑产品批准文号",
    "批号",
    "报告单位",
    "报告日期",
    "发生日期",
    "不良反应名称",
    "严重程度",
    "新的不良反应",
    "患者性别",
    "患者年龄",
    "转归",
]


def timed_import(path: Path) -> tuple[float, object]:
    from yaojian.imports.engine import run_import

    start = time.perf_counter()
    result = run_import("adr", path)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=500)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=3, help="batches per product")
    parser.add_argument(
        "--database-url", help="PostgreSQL URL; default: $YAOJIAN_DATABASE_URL, else a temporary SQLite"
    )
    parser.add_argument("--reimport", action="store_true", help="also time a second import (all updates)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="yaojian-import-bench-"))
    if args.database_url:
        os.environ["YAOJIAN_DATABASE_URL"] = args.database_url
    if not os.environ.get("YAOJIAN_DATABASE_URL"):
        os.environ["YAOJIAN_SQLITE_PATH"] = str(work / "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaojian.settings")
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0)
    refs = setup(work, args)
    path = work / "adr.csv"
    t0 = time.perf_counter()
    write_csv(path, ADR_HEADER, adr_rows(args.rows, refs))
    print(
        f"database: {connection.vendor}; generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    runs = [("first import (creates)", path)] + ([("re-import (updates)", path)] if args.reimport else [])
    for label, file in runs:
        seconds, result = timed_import(file)
        assert result.ok, (result.refused, result.errors[:5])
        print(
            f"{label}: {result.created:,} created, {result.updated:,} updated in {seconds:.1f} s "
            f"→ {args.rows / seconds:,.0f} rows/s"
        )


if __name__ == "__main__":
    main()
