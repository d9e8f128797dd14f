"""Loading the shared surveillance series and the committed R reference outputs 参照结果."""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

REFERENCE_DIR = Path(__file__).parent / "reference"
WEEKLY = ("salmNewport", "salmonella.agona", "shadar", "ha.sts")


def shared_data_dir() -> Path:
    return Path(settings.BASE_DIR).parent / "shared" / "data" / "surveillance"


@cache
def load_series(dataset: str) -> tuple[list[str], np.ndarray, int]:
    """Units, counts (units × time) and frequency of one dataset, ordered by t as in R."""
    if dataset == "daily_sim":
        with open(REFERENCE_DIR / "daily_sim.csv") as fh:
            return ["daily_sim"], np.array([[float(r["count"]) for r in csv.DictReader(fh)]]), 365
    path = shared_data_dir() / f"{dataset}.csv"
    if not path.exists():
        pytest.skip(f"shared surveillance data not found at {path}")
    series: dict[str, dict[int, float]] = defaultdict(dict)
    with open(path) as fh:
        for row in csv.DictReader(fh):
            series[row["unit"]][int(row["t"])] = float(row["count"])
            freq = int(row["freq"])
    units = list(series)
    return units, np.array([[s[t] for t in sorted(s)] for s in series.values()]), freq


@cache
def load_reference(name: str) -> dict[tuple[str, str], list[tuple[str, int, float, bool]]]:
    """(dataset, settings) → rows of (unit, 0-based t, upper bound or NaN, alarm); R's NA alarm is False."""
    out: dict[tuple[str, str], list] = defaultdict(list)
    with open(REFERENCE_DIR / name) as fh:
        for row in csv.DictReader(fh):
            upper = float("nan") if row["upperbound"] == "NA" else float(row["upperbound"])
            out[(row["dataset"], row["settings"])].append((row["unit"], int(row["t"]) - 1, upper, row["alarm"] == "1"))
    return dict(out)


def compare(reference_rows, units, result) -> tuple[float, int, int]:
    """Max relative difference of the upper bounds, count of NaN mismatches and of alarm mismatches."""
    worst, nan_mismatch, alarm_mismatch = 0.0, 0, 0
    for unit, t, upper, alarm in reference_rows:
        ours = result.upperbound[units.index(unit), t]
        if np.isnan(upper) or np.isnan(ours):
            nan_mismatch += np.isnan(upper) != np.isnan(ours)
        else:
            worst = max(worst, abs(ours - upper) / max(abs(upper), 1e-9))
        alarm_mismatch += alarm != bool(result.alarm[units.index(unit), t])
    return worst, nan_mismatch, alarm_mismatch
