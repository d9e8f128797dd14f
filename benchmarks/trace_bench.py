"""Trace benchmark 追溯基准: generated flows → bulk ingest → full anomaly scan (DuckDB, Spark) → queries, with
detection recall/precision per planted kind and peak memory per phase.

Each phase runs in its own process so that its peak memory (the process and its children — Spark's JVM — summed
from /proc every 0.2 s) is its own. Results go to ``<work>/results.json`` and a table on stdout.

    .venv/bin/python benchmarks/trace_bench.py --events 100000000            # the full run (one hour or so)
    .venv/bin/python benchmarks/trace_bench.py --events 2000000 --spark-events 300000   # quick run

One rule alone (with the shared inputs it needs, timed as ``prepare``) on files generated once (``--work``):

    .venv/bin/python benchmarks/trace_bench.py --events 10000000 --only generate --skip-spark
    .venv/bin/python benchmarks/trace_bench.py --only duckdb --skip-ingest --skip-spark --kinds duplicate_sale

Phases: ``generate`` (flows.generate: rows/s), ``ingest`` (yaojian.trace.ingest.ingest_parquet of the generated
day files in batches, events/s; skipped with --skip-ingest, then the scans read the generated files), ``duckdb``
(run_scan with memory_limit/threads), ``spark`` (run_scan on Spark local mode over a store of --spark-events rows,
compared with DuckDB's leads on the same files), ``queries`` (recall reach of a batch and code history / public
code query latency, if yaojian.trace.queries is present).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaojian.settings")
    import django

    django.setup()


# ---------------------------------------------------------------- memory of a process tree


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (Linux /proc)."""
    parents = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(fh.read().rsplit(")", 1)[1].split()[1])].append(int(entry))
            except OSError:
                continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(parents.get(p, ()))
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next((int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:")), 0)
        except OSError:
            continue
    return total


def run_phase(args, phase: str) -> dict:
    """Run one phase in a child process; its JSON result plus wall time and peak RSS of its process tree."""
    command = [sys.executable, __file__, "--phase", phase, *sys.argv[1:]]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = [0]

    def sample():
        while child.poll() is None:
            peak[0] = max(peak[0], _tree_rss(child.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = child.communicate()
    sampler.join()
    if child.returncode:
        return {"phase": phase, "error": f"exit {child.returncode}", "wall_s": time.perf_counter() - started}
    result = json.loads(out.strip().splitlines()[-1])
    result |= {
        "phase": phase,
        "wall_s": round(time.perf_counter() - started, 2),
        "peak_rss_gb": round(peak[0] / 2**30, 2),
    }
    return result


# ---------------------------------------------------------------- phases


def _paths(args):
    work = Path(args.work)
    return work, work / "generated", work / "store", work / "spark"


def _tables(work):
    import pyarrow.parquet as pq

    return {"products": pq.read_table(work / "products.parquet"), "licences": pq.read_table(work / "licences.parquet")}


def phase_generate(args) -> dict:
    import pyarrow.parquet as pq

    from yaojian.trace import flows

    work, generated, _, spark_root = _paths(args)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = flows.generate(generated, events=args.events, seed=args.seed, per_kind=args.per_kind,
                            ground_truth=work / "truth.csv", workers=args.threads, chunk_pallets=4000)  # fmt: skip
    seconds = time.perf_counter() - started
    pq.write_table(result.world.products_table(), work / "products.parquet")
    pq.write_table(result.world.licences_table(), work / "licences.parquet")
    out = {"rows": result.rows, "events": result.events, "units": result.units, "planted": len(result.truth),
           "seconds": round(seconds, 1), "rows_per_s": round(result.rows / seconds)}  # fmt: skip
    if not args.skip_spark and args.spark_events < args.events:
        small = flows.generate(spark_root, events=args.spark_events, seed=args.seed, per_kind=args.per_kind,
                               world=result.world, ground_truth=work / "truth-spark.csv")  # fmt: skip
        out["spark_rows"] = small.rows
    return out


def phase_ingest(args) -> dict:
    _django()
    from yaojian.trace.ingest import ingest_parquet
    from yaojian.trace.store import Store

    _, generated, store_root, _ = _paths(args)
    days = sorted((generated / "events").glob("event_date=*"))
    store = Store(store_root)
    accepted = refused = 0
    started = time.perf_counter()
    for i in range(0, len(days), args.ingest_days):
        files = [f for d in days[i : i + args.ingest_days] for f in sorted(d.glob("*.parquet"))]
        report = ingest_parquet(files, store)
        accepted += report.accepted
        refused += len(report.reasons)
    seconds = time.perf_counter() - started
    return {"accepted": accepted, "refused_batches": refused, "seconds": round(seconds, 1),
            "events_per_s": round(accepted / seconds)}  # fmt: skip


def _scan_root(args) -> Path:
    _, generated, store_root, _ = _paths(args)
    return generated if args.skip_ingest else store_root


def _score(leads, truth_path: Path, kinds: tuple[str, ...]) -> dict:
    """Recall and precision per kind of the rules that ran."""
    import csv

    with open(truth_path, encoding="utf-8") as fh:
        truth = {(r["kind"], r["code"], r["party"]) for r in csv.DictReader(fh) if r["kind"] in kinds}
    found = set(zip(leads["kind"].to_pylist(), leads["code"].to_pylist(), leads["party"].to_pylist(), strict=True))
    scores = {}
    for kind in sorted({k for k, _, _ in truth} | {k for k, _, _ in found}):
        t = {x for x in truth if x[0] == kind}
        f = {x for x in found if x[0] == kind}
        hit = len(t & f)
        scores[kind] = {"planted": len(t), "leads": len(f), "recall": round(hit / len(t), 4) if t else None,
                        "precision": round(hit / len(f), 4) if f else None}  # fmt: skip
    return scores


def phase_duckdb(args) -> dict:
    import pyarrow.parquet as pq

    from yaojian.trace.anomalies import run_scan

    work = Path(args.work)
    timings = {}
    started = time.perf_counter()
    leads = run_scan(_scan_root(args), kinds=args.kinds, timings=timings, memory_limit=args.memory_limit,
                     threads=args.threads, temp_directory=str(work / "duckdb-tmp"), **_tables(work))  # fmt: skip
    seconds = time.perf_counter() - started
    pq.write_table(leads, work / "leads-duckdb.parquet")
    rules = {k: round(v, 2) for k, v in timings.items()}
    detection = _score(leads, work / "truth.csv", args.kinds)
    return {"seconds": round(seconds, 1), "leads": leads.num_rows, "rules_s": rules, "detection": detection}


def phase_spark(args) -> dict:
    from yaojian.trace.anomalies import run_scan, spark_session

    work, _, _, spark_root = _paths(args)
    small = args.spark_events < args.events
    root = spark_root if small else _scan_root(args)
    session = spark_session(memory=args.spark_memory, cores=args.threads)
    timings = {}
    started = time.perf_counter()
    leads = run_scan(root, engine="spark", session=session, kinds=args.kinds, timings=timings, **_tables(work))
    seconds = time.perf_counter() - started
    if small:
        duck = run_scan(root, kinds=args.kinds, memory_limit=args.memory_limit, threads=args.threads, **_tables(work))
    else:
        import pyarrow.parquet as pq

        duck = pq.read_table(work / "leads-duckdb.parquet")
    rules = {k: round(v, 2) for k, v in timings.items()}
    detection = _score(leads, work / ("truth-spark.csv" if small else "truth.csv"), args.kinds)
    return {"data": "--spark-events subset" if small else "full store", "seconds": round(seconds, 1),
            "leads": leads.num_rows, "identical_to_duckdb": leads.equals(duck), "rules_s": rules,
            "detection": detection}  # fmt: skip


def phase_queries(args) -> dict:
    _django()
    import csv

    from yaojian.trace.queries import Queries
    from yaojian.trace.store import Store

    work = Path(args.work)
    with open(work / "truth.csv", encoding="utf-8") as fh:
        codes = [r["code"] for r in csv.DictReader(fh) if r["code"].startswith("urn:yaojian:tracecode:")][:20]
    out = {}
    if args.skip_ingest:  # the generated files have no code index yet: build it as an ingest would
        started = time.perf_counter()
        Store(_scan_root(args)).reindex()
        out["reindex_s"] = round(time.perf_counter() - started, 1)
    queries = Queries(_scan_root(args), "duckdb")
    for name, call in (("code_history", queries.history), ("public_code", queries.public)):
        call(codes[0])  # warm: first call opens the engine
        times = []
        for c in codes:
            started = time.perf_counter()
            call(c)
            times.append(time.perf_counter() - started)
        out[f"{name}_ms_median"] = round(statistics.median(times) * 1000, 1)
    import duckdb

    pattern = str(_scan_root(args) / "events" / "event_date=*" / "*.parquet")
    lots = [
        r[0] for r in duckdb.sql(f"SELECT lot FROM read_parquet('{pattern}') WHERE lot IS NOT NULL LIMIT 1").fetchall()
    ]
    if lots:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            holders = queries.recall(lots[0])
            times.append(time.perf_counter() - started)
        out |= {"recall_ms_median": round(statistics.median(times) * 1000, 1), "recall_holders": len(holders)}
    return out


def _kinds(option: str | None) -> tuple[str, ...]:
    from yaojian.trace.anomalies import KINDS

    if not option:
        return KINDS
    kinds = tuple(option.split(","))
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise SystemExit(f"unknown --kinds {', '.join(sorted(unknown))} (known: {', '.join(KINDS)})")
    return kinds


PHASES = {"generate": phase_generate, "ingest": phase_ingest, "duckdb": phase_duckdb, "spark": phase_spark,
          "queries": phase_queries}  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000_000, help="event rows (event × EPC) to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-kind", type=int, default=50, help="planted anomalies per kind")
    parser.add_argument("--work", default="/tmp/trace-bench")
    parser.add_argument("--memory-limit", default="6GB", help="DuckDB memory_limit")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--spark-events", type=int, default=None, help="rows for the Spark run (default: all)")
    parser.add_argument("--spark-memory", default="5g")
    parser.add_argument("--ingest-days", type=int, default=30, help="day partitions per ingest call")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--only", help="comma-separated phases to run (others' outputs must exist)")
    parser.add_argument("--kinds", help="comma-separated rules for the scan phases (default: all), e.g. duplicate_sale")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.kinds = _kinds(args.kinds)
    args.spark_events = args.spark_events or args.events
    if args.phase:
        print(json.dumps(PHASES[args.phase](args), ensure_ascii=False))
        return
    wanted = args.only.split(",") if args.only else list(PHASES)
    skip = {"ingest"} if args.skip_ingest else set()
    skip |= {"spark"} if args.skip_spark else set()
    results = {}
    for phase in wanted:
        if phase in skip:
            continue
        results[phase] = run_phase(args, phase)
        print(json.dumps(results[phase], ensure_ascii=False), flush=True)
    Path(args.work).mkdir(parents=True, exist_ok=True)
    with open(Path(args.work) / "results.json", "w", encoding="utf-8") as fh:
        json.dump(results, fh, ensure_ascii=False, indent=2)


if __name__ == "__main__":
    main()
