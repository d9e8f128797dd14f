"""Benchmark of the syndromic detectors and the space-time scan 症候群监测性能基准, against R ``surveillance``.

    .venv/bin/python benchmarks/surveillance_bench.py                       # 10 000 series, R on 1 000
    .venv/bin/python benchmarks/surveillance_bench.py --series 500 --r-series 100 --replications 99

Data (seeded): daily pharmacy-sales-like counts, 3 years per series, negative binomial around a yearly
and weekly seasonal mean that differs per series (mean 0.5–20 a day), with outbreaks added in the
last month of one series in ten.

Timed in Python: EARS C1, C2, C3 (package convention) and the textbook C3 over every day of every series;
Farrington flexible (b = 2, w = 3, package defaults otherwise) and the Noufaily variant (b = 2) for the
last day of every series; the prospective space-time permutation scan (999 replications, windows up to
14 days, circles up to half the districts) on 100 districts × 365 days.

Peer: when ``Rscript`` and the ``surveillance`` package are installed, the same EARS and Farrington runs
go through R on the first ``--r-series`` series; times are scaled per series to compare, and bounds and
alarms are compared on that subset.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from yaojian.surveillance.ears import ears
from yaojian.surveillance.farrington import FarringtonControl, farrington_flexible, noufaily_control
from yaojian.surveillance.scan import space_time_scan

DAYS = 3 * 365
EARS_METHODS = ("C1", "C2", "C3")
FARRINGTON = {
    "farrington": FarringtonControl(b=2, w=3),
    "noufaily": noufaily_control(b=2),
}

R_SCRIPT = r"""
suppressMessages(library(surveillance))
args <- commandArgs(trailingOnly = TRUE)
y <- as.matrix(read.csv(args[1], header = FALSE))
x <- sts(observed = y, frequency = 365)
n <- nrow(y)
out <- list(); times <- list()
for (m in c("C1", "C2", "C3")) {
  t0 <- proc.time()[["elapsed"]]
  r <- earsC(x, control = list(method = m))
  times[[m]] <- proc.time()[["elapsed"]] - t0
  out[[m]] <- r
}
ctl <- list(farrington = list(b = 2, w = 3, range = n, glmWarnings = FALSE),
            noufaily = list(b = 2, w = 3, noPeriods = 10, pastWeeksNotIncluded = 26, weightsThreshold = 2.58,
                            thresholdMethod = "nbPlugin", range = n, glmWarnings = FALSE))
for (m in names(ctl)) {
  t0 <- proc.time()[["elapsed"]]
  out[[m]] <- farringtonFlexible(x, control = ctl[[m]])
  times[[m]] <- proc.time()[["elapsed"]] - t0
}
for (m in names(out)) {
  write.table(upperbound(out[[m]]), file.path(args[2], paste0(m, "_upper.csv")), sep = ",",
              row.names = FALSE, col.names = FALSE, na = "NaN")
  write.table(alarms(out[[m]]) * 1, file.path(args[2], paste0(m, "_alarm.csv")), sep = ",",
              row.names = FALSE, col.names = FALSE, na = "0")
}
cat(paste(names(times), unlist(times), sep = "=", collapse = "\n"), "\n",
    file = file.path(args[2], "times.txt"))
"""


def generate(n_series: int, seed: int = 20261124) -> np.ndarray:
    rng = np.random.default_rng(seed)
    day = np.arange(DAYS)
    level = rng.uniform(np.log(0.5), np.log(20), size=(n_series, 1))
    yearly = rng.uniform(0.1, 0.6, size=(n_series, 1)) * np.sin(2 * np.pi * (day + rng.integers(0, 365)) / 365)
    weekly = 0.15 * np.sin(2 * np.pi * day / 7)
    mean = np.exp(level + yearly + weekly)
    size = 10.0
    counts = rng.negative_binomial(size, size / (size + mean)).astype(float)
    outbreaks = np.flatnonzero(rng.random(n_series) < 0.1)
    start = rng.integers(DAYS - 30, DAYS - 4, size=outbreaks.size)
    for series, first in zip(outbreaks, start, strict=True):
        counts[series, first : first + 5] += rng.poisson(3 * np.exp(level[series, 0]) ** 0.5 + 3, 5)
    return counts


def scan_table(seed: int = 20261125) -> tuple[np.ndarray, np.ndarray]:
    """100 districts × 365 days with a planted 3-district cluster over the last 4 days."""
    rng = np.random.default_rng(seed)
    centroids = rng.uniform(0, 300_000, size=(100, 2))
    rates = rng.uniform(0.5, 5, size=(100, 1)) * (1 + 0.3 * np.sin(2 * np.pi * np.arange(365) / 7))
    table = rng.poisson(rates)
    cluster = np.argsort(((centroids - centroids[0]) ** 2).sum(axis=1))[:3]
    table[cluster, -4:] += rng.poisson(4, size=(3, 4))
    return table, centroids


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t0


def run_python(counts: np.ndarray) -> tuple[dict, dict]:
    results, times = {}, {}
    for method in EARS_METHODS + ("C3-textbook",):
        results[method], times[method] = timed(ears, counts, method=method)
    for name, control in FARRINGTON.items():
        results[name], times[name] = timed(farrington_flexible, counts, 365, control, days=[DAYS - 1])
    return results, times


def run_r(counts: np.ndarray) -> tuple[dict, dict] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        np.savetxt(tmp_path / "y.csv", counts.T, fmt="%d", delimiter=",")
        (tmp_path / "bench.R").write_text(R_SCRIPT)
        done = subprocess.run(
            ["Rscript", str(tmp_path / "bench.R"), str(tmp_path / "y.csv"), tmp], capture_output=True, text=True
        )
        if done.returncode != 0:
            print("R run failed:", done.stderr[-2000:])
            return None
        times = dict(line.split("=") for line in (tmp_path / "times.txt").read_text().split())
        out = {}
        for name in times:
            upper = np.loadtxt(tmp_path / f"{name}_upper.csv", delimiter=",", ndmin=2).T
            alarm = np.loadtxt(tmp_path / f"{name}_alarm.csv", delimiter=",", ndmin=2).T.astype(bool)
            out[name] = (upper, alarm)
        return out, {k: float(v) for k, v in times.items()}


def agreement(ours, theirs, n: int) -> dict:
    """Compare on the days R evaluated (its output covers the last columns of the series)."""
    r_upper, r_alarm = theirs
    days = r_upper.shape[1]
    upper = ours.upperbound[:n, -days:]
    alarm = ours.alarm[:n, -days:]
    both = ~np.isnan(upper) & ~np.isnan(r_upper)
    rel = np.abs(upper[both] - r_upper[both]) / np.maximum(np.abs(r_upper[both]), 1e-9)
    return {
        "max_rel_diff": float(rel.max()) if rel.size else 0.0,
        "nan_mismatch": int((np.isnan(upper) != np.isnan(r_upper)).sum()),
        "alarm_mismatch": int((alarm != r_alarm).sum()),
        "alarms": int(r_alarm.sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--r-series", type=int, default=1_000)
    parser.add_argument("--replications", type=int, default=999)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()

    counts = generate(args.series)
    results, times = run_python(counts)
    table, centroids = scan_table()
    cluster, scan_time = timed(space_time_scan, table, centroids, max_days=14, replications=args.replications, seed=1)

    report = {
        "series": args.series,
        "days": DAYS,
        "python_seconds": {k: round(v, 3) for k, v in times.items()},
        "scan": {
            "districts_x_days": list(table.shape),
            "replications": args.replications,
            "seconds": round(scan_time, 2),
            "cluster_zones": cluster.zones.tolist(),
            "days": [cluster.first_day, cluster.last_day],
            "llr": round(cluster.llr, 3),
            "p_value": cluster.p_value,
        },
    }
    peer = None if args.skip_peer else run_r(counts[: args.r_series])
    if peer is not None:
        r_out, r_times = peer
        n = args.r_series
        report["r_series"] = n
        report["r_seconds"] = {k: round(v, 2) for k, v in r_times.items()}
        # Per-series cost: R on n series against Python on all of them.
        report["speed_ratio_per_series"] = {
            k: round((r_times[k] / n) / (times[k] / args.series), 1) for k in r_times if times.get(k)
        }
        report["agreement"] = {k: agreement(results[k], r_out[k], n) for k in r_out}
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
