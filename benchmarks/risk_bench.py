"""Risk portrait benchmark: full recomputation (enterprise and product scores, levels, rules), one incremental update.

Run on a generated data set, e.g. at province scale:

    YAOJIAN_SQLITE_PATH=/tmp/province.sqlite3 .venv/bin/python manage.py migrate
    YAOJIAN_SQLITE_PATH=/tmp/province.sqlite3 .venv/bin/yaojian generate --scale province --seed 1
    YAOJIAN_SQLITE_PATH=/tmp/province.sqlite3 .venv/bin/python benchmarks/risk_bench.py

Prints the timing of each phase, the row counts it worked on, and (with ``--backtest``)
the backtest figures.
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaojian.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from yaojian.adr.models import AdrReport  # noqa: E402
from yaojian.core import services as core_services  # noqa: E402
from yaojian.inspections.models import Defect, Inspection  # noqa: E402
from yaojian.registry.models import Enterprise, Product  # noqa: E402
from yaojian.risk import actions, engine, services  # noqa: E402


def timed(label, func):
    started = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - started
    print(f"{label:<44} {elapsed:8.2f} s   {result}")
    return result, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", type=datetime.date.fromisoformat, default=timezone.localdate())
    parser.add_argument("--backtest", type=datetime.date.fromisoformat, help="also backtest at this cut-off")
    args = parser.parse_args()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(
        f"enterprises {Enterprise.objects.count():,}  products {Product.objects.count():,}  "
        f"inspections {Inspection.objects.count():,}  defects {Defect.objects.count():,}  "
        f"ADR reports {AdrReport.objects.count():,}"
    )
    config = services.active_config()
    tables = {}

    def enterprise_scores():
        tables["enterprises"] = engine.compute(args.as_of, config.parameters, config.version)
        return len(tables["enterprises"])

    def product_scores():
        table = tables["enterprises"]
        compliance = (table.enterprise_ids, table.compliance)
        return len(engine.compute_products(args.as_of, config.parameters, config.version, compliance))

    timed("enterprise scores only (engine.compute)", enterprise_scores)
    timed("product scores only (engine.compute_products)", product_scores)
    _, full = timed("full recompute: enterprises + products, history", lambda: services.recompute(as_of=args.as_of))
    _, rules = timed("full rules: 优先推荐, 黄灯预警", lambda: actions.apply_rules(as_of=args.as_of))
    print(f"{'= full recomputation (scores, levels, products, rules)':<44} {full + rules:8.2f} s")
    timed("full recompute again (unchanged data)", lambda: services.recompute(as_of=args.as_of))

    inspection = Inspection.objects.order_by("-inspected_on").first()

    def one_record():
        with transaction.atomic():
            defect = core_services.create_record(
                Defect,
                actor=None,
                inspection=inspection,
                code=f"BENCH-{time.time_ns()}",
                grade="critical",
                description="基准测试缺陷",
            )
        return defect.pk  # on_commit ran the incremental rescoring (enterprise, its products) and rules

    timed("one new record → incremental update", one_record)
    if args.backtest:
        timed("backtest", lambda: services.backtest(args.backtest))


if __name__ == "__main__":
    main()
