"""Benchmark of the disproportionality engine 信号检测性能基准 on a FAERS-scale synthetic set.

    .venv/bin/python benchmarks/signals_bench.py                 # 2 000 000 reports, with vigipy
    .venv/bin/python benchmarks/signals_bench.py --scale 0.05 --skip-peer

The synthetic set: reports carry 1 + Poisson(0.8) drugs and 1 + Poisson(1.5) events (≈ 4.5 report–
drug–event rows per report, so ≈ 9 000 000 rows and ≈ 1 200 000 pairs at full scale), drugs and
events with Zipf-like popularity. Per-drug heterogeneity keeps the prior fit well-posed: each drug draws
its background events from its own Gamma-perturbed copy of the event popularity (true relative risks
spread around 1), and has a handful of "signature" events with its own Beta-distributed propensity to
draw from them (relative risks well above 10). A report's events follow its first (primary) drug.

Timed: the whole computation — distinct-report counts, PRR/ROR/IC, the MGPS prior fit (maximum
likelihood, unsquashed), EBGM and EB05/EB95 for every pair. Peak memory is the peak RSS
during the computation (input rows included), measured with VmHWM after a reset.

The peer, vigipy (PRR, ROR, BCPNN, GPS), has heavy dependencies (pandas, scikit-learn, statsmodels) and
lives in its own environment: ``--peer-python`` (default var/peer-venv/bin/python, created with
``python -m venv var/peer-venv && var/peer-venv/bin/pip install vigipy``) runs this file again with
``--peer-worker`` on the same rows, timing convert + prr + ror + bcpnn + gps.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FULL_REPORTS = 2_000_000


def zipf_weights(k: int, rng: np.random.Generator, s: float) -> np.ndarray:
    w = 1.0 / (np.arange(k) + 10.0) ** s
    rng.shuffle(w)
    return w / w.sum()


def generate(reports: int, seed: int = 20261124) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows (report, drug, event) as int64 codes; every report crosses its drugs with its events."""
    rng = np.random.default_rng(seed)
    n_drugs = max(50, int(2800 * (reports / FULL_REPORTS) ** 0.5))
    n_events = max(30, int(1100 * (reports / FULL_REPORTS) ** 0.5))
    p_drug = zipf_weights(n_drugs, rng, 1.2)
    p_event = zipf_weights(n_events, rng, 1.0)
    signature = rng.integers(0, n_events, size=(n_drugs, 10))
    propensity = rng.beta(0.5, 15.0, n_drugs)  # share of a drug's events drawn from its signature

    kd = 1 + rng.poisson(0.8, reports)
    ke = 1 + rng.poisson(1.5, reports)
    drug_rows = rng.choice(n_drugs, size=int(kd.sum()), p=p_drug)
    first_drug = drug_rows[np.cumsum(kd) - kd]
    ev_report = np.repeat(np.arange(reports), ke)
    primary = first_drug[ev_report]
    from_signature = rng.random(ev_report.size) < propensity[primary]
    # Background events: each drug has its own Gamma-perturbed version of the event popularity, sampled
    # by inverse CDF over all drugs' cumulative rows laid end to end (row d spans d … d + 1).
    weights = p_event * rng.gamma(1.0, 1.0, size=(n_drugs, n_events))
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1) + np.arange(n_drugs)[:, None]
    pos = np.searchsorted(cum.ravel(), primary + rng.random(primary.size))
    event_rows = np.minimum(pos - primary * n_events, n_events - 1)
    sig_pick = signature[primary, rng.integers(0, 10, ev_report.size)]
    event_rows = np.where(from_signature, sig_pick, event_rows)

    # Cross product within each report: row i of report r takes drug i // ke[r] and event i % ke[r].
    per = kd * ke
    report = np.repeat(np.arange(reports, dtype=np.int64), per)
    offset = np.arange(report.size) - np.repeat(np.cumsum(per) - per, per)
    k = ke[report]
    drug = drug_rows[np.repeat(np.cumsum(kd) - kd, per) + offset // k]
    event = event_rows[np.repeat(np.cumsum(ke) - ke, per) + offset % k]
    return report, drug.astype(np.int64), event.astype(np.int64)


def peak_rss_gb() -> float:
    """Peak resident memory: VmHWM (resettable, see reset_peak_rss), else the process's ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def reset_peak_rss() -> bool:
    """Start VmHWM afresh (Linux clear_refs 5) so the peak covers the computation, not the generator."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def run_ours(report, drug, event) -> dict:
    from yaojian.signals import disproportionality as dp

    stages = {}
    t0 = time.perf_counter()
    counts = dp.count_pairs(report, drug, event)
    stages["counts"] = time.perf_counter() - t0
    t = time.perf_counter()
    dp.ratio_measures(counts)
    stages["prr_ror_ic"] = time.perf_counter() - t
    t = time.perf_counter()
    prior = dp.fit_prior(counts.n, counts.expected)
    stages["prior_fit"] = time.perf_counter() - t
    t = time.perf_counter()
    eb = dp.eb_scores(prior, counts.n, counts.expected)
    stages["ebgm_eb05_eb95"] = time.perf_counter() - t
    total = time.perf_counter() - t0
    return {
        "seconds": total,
        "stages": {k: round(v, 3) for k, v in stages.items()},
        "pairs": int(counts.n.size),
        "reports": counts.n_reports,
        "prior": prior.as_dict(),
        "eb05_ge_2": int((eb.eb05 >= 2).sum()),
    }


def peer_worker(folder: Path) -> None:
    """Runs under the peer's interpreter: vigipy's usual pipeline on the same rows (one count each)."""
    import pandas as pd
    from vigipy import bcpnn, convert, gps, prr, ror

    drug, event = np.load(folder / "drug.npy"), np.load(folder / "event.npy")
    frame = pd.DataFrame({"name": drug.astype(str), "AE": event.astype(str), "count": np.ones(drug.size, int)})
    stages = {}
    t0 = time.perf_counter()
    container = convert(frame)
    stages["convert"] = time.perf_counter() - t0
    for name, method in (("prr", prr), ("ror", ror), ("bcpnn", bcpnn), ("gps", gps)):
        t = time.perf_counter()
        method(container, min_events=1)
        stages[name] = time.perf_counter() - t
    result = {"seconds": time.perf_counter() - t0, "stages": {k: round(v, 3) for k, v in stages.items()}}
    result["peak_rss_gb"] = round(peak_rss_gb(), 3)
    (folder / "peer.json").write_text(json.dumps(result))


def run_peer(python: str, drug, event) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        np.save(folder / "drug.npy", drug)
        np.save(folder / "event.npy", event)
        subprocess.run([python, __file__, "--peer-worker", str(folder)], check=True)
        return json.loads((folder / "peer.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 2 000 000 reports (default 1)")
    parser.add_argument("--skip-peer", action="store_true", help="do not run vigipy")
    parser.add_argument("--peer-python", default=str(ROOT / "var" / "peer-venv" / "bin" / "python"))
    parser.add_argument("--peer-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_worker:
        peer_worker(Path(args.peer_worker))
        return

    t = time.perf_counter()
    report, drug, event = generate(int(FULL_REPORTS * args.scale))
    print(f"generated {report.size:,} rows in {time.perf_counter() - t:.1f} s")
    peak_is_local = reset_peak_rss()
    ours = run_ours(report, drug, event)
    # With the reset, the peak covers the computation plus what was resident before it (the input rows).
    ours["peak_rss_gb"] = round(peak_rss_gb(), 3)
    ours["peak_scope"] = "computation (+ resident input)" if peak_is_local else "whole process"
    ours["input_gb"] = round(3 * report.nbytes / 1024**3, 3)
    print(f"yaojian: {ours['seconds']:.2f} s {json.dumps(ours, ensure_ascii=False)}")
    if args.skip_peer:
        return
    if not Path(args.peer_python).exists():
        print(f"vigipy skipped: no peer interpreter at {args.peer_python}")
        return
    peer = run_peer(args.peer_python, drug, event)
    print(f"vigipy: {peer['seconds']:.2f} s {json.dumps(peer)}")
    print(f"ratio vigipy / yaojian: {peer['seconds'] / ours['seconds']:.1f}×")


if __name__ == "__main__":
    main()
