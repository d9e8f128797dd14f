"""Case-work benchmark 病例处理性能基准: coding, coding queue, timeliness and duplicate detection at scale.

    .venv/bin/python benchmarks/casework_bench.py                       # 200 000 reports, temporary SQLite
    .venv/bin/python benchmarks/casework_bench.py --reports 20000
    bash scripts/with-postgres.sh .venv/bin/python benchmarks/casework_bench.py --reports 50000

Synthetic cases in 12 districts: 1–2 suspect drugs from 400 names, 1–3 reactions whose text is a
synonym of a shipped dictionary term (80 %) or a free variant (20 %), sex, age, dates; a planted 3 % of
reports are re-reports of an earlier case (same patient, drug and reactions, onset within 3 days,
another reporting unit). Timed: ``code_pending`` over all reactions, the coding queue, the late-case
count and per-unit statistics, and ``find_duplicates`` (with recall of the planted pairs).
"""

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if "YAOJIAN_DATABASE_URL" not in os.environ:
    os.environ.setdefault("YAOJIAN_SQLITE_PATH", str(Path(tempfile.mkdtemp()) / "casework_bench.sqlite3"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaojian.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from yaojian.adr.models import AdrDrug, AdrReaction, AdrReport, ReactionSynonym  # noqa: E402
from yaojian.casework import coding, deadlines, dedupe  # noqa: E402
from yaojian.casework.config import active_config  # noqa: E402
from yaojian.casework.models import DuplicateCandidate  # noqa: E402

DISTRICTS = ("320102", "320104", "320105", "320106", "320111", "320113", "320114", "320115", "320116",
             "320117", "320118", "320213")  # fmt: skip
START = datetime.date(2023, 1, 1)


def timed(label, func):
    started = time.perf_counter()
    result = func()
    print(f"{label:<40} {time.perf_counter() - started:8.2f} s   {result}")
    return result


def build(n: int, seed: int) -> set[tuple[str, str]]:
    """Bulk-create the cases; return the planted duplicate pairs as (original, copy) report numbers."""
    rng = np.random.default_rng(seed)
    synonyms = list(ReactionSynonym.objects.filter(term__dictionary="yaojian").values_list("text", flat=True))
    texts = synonyms + [f"{s}加重{k}" for k, s in enumerate(synonyms[:300])]  # free variants go to the queue
    weights = np.where(np.arange(len(texts)) < len(synonyms), 0.8 / len(synonyms), 0.2 / 300)
    drugs = [f"药品{k:03d}片" for k in range(400)]
    n_copies = int(n * 0.03)
    originals = rng.choice(n - n_copies, size=n_copies, replace=False)
    reports, drug_rows, reaction_rows, planted = [], [], [], set()
    plan = []  # per report: (sex, age, days, drug ids, reaction ids, district)
    for _ in range(n - n_copies):
        plan.append(
            (
                "MF"[rng.integers(2)],
                int(rng.integers(1, 90)),
                int(rng.integers(0, 1000)),
                rng.choice(400, size=1 + (rng.random() < 0.3), replace=False).tolist(),
                rng.choice(len(texts), size=1 + rng.poisson(0.6), p=weights / weights.sum()).tolist(),
                DISTRICTS[rng.integers(len(DISTRICTS))],
            )
        )
    for k, original in enumerate(originals):
        sex, age, day, d, r, district = plan[original]
        plan.append((sex, age, day + int(rng.integers(0, 4)), d, r, district))
        planted.add((f"B{original:07d}", f"B{n - n_copies + k:07d}"))
    for i, (sex, age, day, _d, r, district) in enumerate(plan):
        received = START + datetime.timedelta(days=day + 1)
        reports.append(
            AdrReport(
                report_number=f"B{i:07d}",
                division_code=district,
                reporter_unit=f"医院{i % 150:03d}",
                received_on=received,
                reported_on=received + datetime.timedelta(days=int(rng.integers(0, 40))),
                onset_on=START + datetime.timedelta(days=day),
                reaction=texts[r[0]],
                seriousness=("general", "serious", "death")[min(2, int(rng.integers(0, 20)) // 9)],
                patient_sex=sex,
                patient_age=age,
            )
        )
    with transaction.atomic():
        AdrReport.objects.bulk_create(reports, batch_size=5000)
        ids = dict(AdrReport.objects.values_list("report_number", "pk"))
        for i, (_s, _a, day, d, r, _district) in enumerate(plan):
            pk = ids[f"B{i:07d}"]
            drug_rows.extend(AdrDrug(report_id=pk, position=p, name=drugs[x]) for p, x in enumerate(d, start=1))
            onset = START + datetime.timedelta(days=day)
            reaction_rows.extend(
                AdrReaction(report_id=pk, position=p, reported_term=texts[x], onset_on=onset)
                for p, x in enumerate(dict.fromkeys(r), start=1)
            )
        AdrDrug.objects.bulk_create(drug_rows, batch_size=5000)
        AdrReaction.objects.bulk_create(reaction_rows, batch_size=5000)
    print(f"reports {len(reports):,}  drugs {len(drug_rows):,}  reactions {len(reaction_rows):,}  planted {n_copies:,}")
    return planted


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    started = time.perf_counter()
    planted = build(args.reports, args.seed)
    print(f"{'build synthetic cases':<40} {time.perf_counter() - started:8.2f} s")
    config = active_config()
    timed("code_pending (all reactions)", lambda: coding.code_pending())
    rows = timed("coding queue (all reports)", lambda: len(coding.queue(AdrReport.objects.all())))
    reports = AdrReport.objects.all()
    timed("late cases (count)", lambda: deadlines.annotate_timeliness(reports, config).filter(tl_late=True).count())
    timed("timeliness per unit", lambda: len(deadlines.unit_statistics(reports, config)))
    result = timed("find_duplicates", lambda: dedupe.find_duplicates())
    found = set(DuplicateCandidate.objects.values_list("report_a__report_number", "report_b__report_number").iterator())
    recall = len(planted & found) / len(planted) if planted else 1.0
    print(f"queue groups {rows:,}; pairs queued {result.candidates:,}; planted pairs found {recall:.1%}")


if __name__ == "__main__":
    main()
