"""Regenerate vigipy_caers_reference.csv: vigipy's PRR, ROR and IC025 on openEBGM-style CAERS counts.

vigipy pulls in pandas, scikit-learn and statsmodels, so it is not a test dependency; this script runs
once in a separate environment (python -m venv /tmp/peer && /tmp/peer/bin/pip install vigipy==3.5.1):

    /tmp/peer/bin/python yaojian/signals/tests/reference/make_vigipy_reference.py \
        ../shared/data/caers/caers.csv yaojian/signals/tests/reference/vigipy_caers_reference.csv

Counts are built here with pandas, independently of yaojian: N = distinct reports with the pair,
n_drug / n_event = distinct reports with the drug / event, n_reports = distinct reports. vigipy is
then handed exactly these counts (its own ``convert`` would sum rows instead). To keep the file small
it holds every pair with N ≥ 2 and every 5th other pair (most of which have a zero cell in their
2×2 table, where vigipy's Haldane–Anscombe correction applies).
"""

import sys

import numpy as np
import pandas as pd
import vigipy
from vigipy import bcpnn, prr, ror
from vigipy.utils.Container import DataContainer


def main(source: str, target: str) -> None:
    raw = pd.read_csv(source, dtype=str)
    raw = raw.rename(columns={"id": "case_id", "var1": "drug", "var2": "event"})
    n_reports = raw["case_id"].nunique()
    pairs = raw.groupby(["drug", "event"])["case_id"].nunique().rename("N").reset_index()
    pairs["n_drug"] = pairs["drug"].map(raw.groupby("drug")["case_id"].nunique())
    pairs["n_event"] = pairs["event"].map(raw.groupby("event")["case_id"].nunique())
    data = pd.DataFrame(
        {
            "product_name": pairs["drug"],
            "ae_name": pairs["event"],
            "events": pairs["N"],
            "product_aes": pairs["n_drug"],
            "count_across_brands": pairs["n_event"],
        }
    )
    container = DataContainer(data=data, N=n_reports)
    key = ["Product", "Adverse Event"]
    out = pairs.rename(columns={"drug": "Product", "event": "Adverse Event"})
    for name, result in (("PRR", prr(container, min_events=1)), ("ROR", ror(container, min_events=1))):
        frame = result.all_signals[[*key, name, "CI Lower", "CI Upper"]]
        frame = frame.rename(columns={"CI Lower": f"{name}_lo", "CI Upper": f"{name}_hi"})
        out = out.merge(frame, on=key, how="left", validate="one_to_one")
    ic = bcpnn(container, min_events=1, ranking_statistic="quantile").all_signals[[*key, "quantile"]]
    out = out.merge(ic.rename(columns={"quantile": "IC025"}), on=key, how="left", validate="one_to_one")

    keep = (out["N"] >= 2) | (np.arange(len(out)) % 5 == 0)
    out = out[keep].rename(columns={"Product": "drug", "Adverse Event": "event"})
    out.insert(5, "n_reports", n_reports)
    out.to_csv(target, index=False, float_format="%.12g")
    print(f"vigipy {vigipy.__version__ if hasattr(vigipy, '__version__') else '?'}: {len(out)} pairs → {target}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
