"""Smart-pharmacy warning 智慧药店预警基准: submission throughput, daily detection, retention purge.

    .venv/bin/python benchmarks/pharmacy_bench.py                                  # SQLite (temporary file)
    bash scripts/with-postgres.sh .venv/bin/python benchmarks/pharmacy_bench.py    # PostgreSQL
    .venv/bin/python benchmarks/pharmacy_bench.py --pharmacies 200 --rows 20000    # quick run

Creates ``--pharmacies`` retail pharmacies spread over 江苏省's districts, then times:
1. ``submit_records``: ``--rows`` real-name purchase rows in batches of 5,000 (validation, SM4-GCM encryption of
   two fields, keyed hash, upsert, audit record, daily-count refresh), and the same batches again (all unchanged);
2. ``detect`` for one day over ``--days`` days of daily counts (pharmacies × 5 classes series, all six
   detectors at pharmacy and district level, multi-point trigger, alerts filed);
3. ``purge`` of the records past retention (counts computed first and kept).
"""

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pharmacies", type=int, default=1000)
    parser.add_argument("--days", type=int, default=120, help="days of daily counts for the detection")
    parser.add_argument("--rows", type=int, default=100000, help="purchase rows submitted")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pharmacy-bench-"))
    if not os.environ.get("YAOJIAN_DATABASE_URL"):
        os.environ["YAOJIAN_SQLITE_PATH"] = str(work / "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaojian.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from yaojian.core.identifiers import build_uscc
    from yaojian.core.models import Division
    from yaojian.pharmacy import demo, detection, services
    from yaojian.pharmacy.models import DailyCount, DrugClass, PurchaseRecord, Source
    from yaojian.registry.models import Enterprise

    districts = list(Division.objects.filter(level="district", code__startswith="32").values_list("code", flat=True))
    Enterprise.objects.bulk_create(
        Enterprise(
            name=f"基准大药房{i}",
            credit_code=build_uscc(districts[i % len(districts)], f"9{i:07d}"),
            type="retail_pharmacy",
            division_id=districts[i % len(districts)],
            division_code=districts[i % len(districts)],
            address="示例路",
            legal_representative="王某",
        )
        for i in range(args.pharmacies)
    )
    pharmacies = list(Enterprise.objects.order_by("pk"))
    classes = list(DrugClass.objects.all())
    rng = np.random.default_rng(1)
    as_of = datetime.date(2025, 6, 30)

    # 1. Submission: one pharmacy's batches of 5,000 rows (a chain's nightly upload).
    ids = demo._resident_ids(rng, pharmacies[0].division_id, 5000)
    names = demo._names(rng, 5000)
    rows = [
        {
            "receipt_number": f"B{i // 3}",
            "line": i % 3 + 1,
            "sold_at": datetime.datetime(2025, 6, 1 + i % 28, 9 + i % 12, i % 60),
            "drug_name": demo.DRUGS[classes[i % 5].code][i % 3],
            "quantity": 1,
            "buyer_name": names[i % 5000],
            "buyer_id_number": ids[i % 5000],
        }
        for i in range(args.rows)
    ]
    batches = [list(enumerate(rows[i : i + 5000], start=1)) for i in range(0, len(rows), 5000)]
    timings = {}
    for label in ("submit", "resubmit"):
        start = time.perf_counter()
        for batch in batches:
            services.submit_records(None, pharmacies[0], batch, source=Source.API)
        timings[label] = time.perf_counter() - start
    assert PurchaseRecord.objects.count() == len(rows)

    # 2. Detection over daily counts of every pharmacy × class (Poisson, a planted surge in 3 pharmacies).
    DailyCount.objects.all().delete()
    counts = rng.poisson(6.0, (len(pharmacies), len(classes), args.days))
    same_district = [p for p in pharmacies if p.division_id == pharmacies[0].division_id][:3]
    for p in same_district:
        counts[pharmacies.index(p), 0, -1] = 40
    objs = []
    for p_i, pharmacy in enumerate(pharmacies):
        for c_i, drug_class in enumerate(classes):
            for d in range(args.days):
                value = int(counts[p_i, c_i, d])
                objs.append(
                    DailyCount(
                        day=as_of - datetime.timedelta(days=args.days - 1 - d),
                        pharmacy=pharmacy,
                        division_code=pharmacy.division_id,
                        drug_class=drug_class,
                        purchases=value,
                        quantity=value,
                        buyers=value,
                    )
                )
    DailyCount.objects.bulk_create(objs, batch_size=10000)
    start = time.perf_counter()
    if os.environ.get("PROFILE"):
        import cProfile

        cProfile.runctx("detection.detect(as_of)", globals(), locals(), sort="cumulative")
    result = detection.detect(as_of)
    timings["detect"] = time.perf_counter() - start
    start = time.perf_counter()
    detection.detect(as_of)
    timings["detect again"] = time.perf_counter() - start

    # 3. Purge everything submitted (retention 0 days from a later date).
    start = time.perf_counter()
    deleted = services.purge(today=datetime.date(2026, 1, 1), retention_days=30)
    timings["purge"] = time.perf_counter() - start

    print(f"数据库: {django.db.connection.vendor}; 药店 {len(pharmacies)}; 每日计数 {len(objs):,} 行 ({args.days} 天)")
    print(f"上报 {len(rows):,} 行: {timings['submit']:.2f} s ({len(rows) / timings['submit']:,.0f} 行/秒)")
    print(f"重复上报（全部未变）: {timings['resubmit']:.2f} s ({len(rows) / timings['resubmit']:,.0f} 行/秒)")
    print(
        f"检测一天（{len(pharmacies) * len(classes):,} 条药店序列 + 区县序列，六种方法）: {timings['detect']:.2f} s，"
        f"新预警 {len(result.created)} 条；再次检测 {timings['detect again']:.2f} s"
    )
    print(f"删除超期记录 {deleted:,} 条: {timings['purge']:.2f} s")
    from yaojian.pharmacy.models import Alert

    for alert in Alert.objects.select_related("drug_class"):
        print(f"  {alert} {alert.division_code} {alert.detector_labels} 触发点 {alert.n_points}")


if __name__ == "__main__":
    main()
