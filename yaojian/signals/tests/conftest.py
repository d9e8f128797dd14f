import csv
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

SHARED = Path(settings.BASE_DIR).parent / "shared"
CAERS = SHARED / "data" / "caers"


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def caers_table():
    """CAERS rows coded for the engine (skipped only where ../shared is not beside the checkout)."""
    if not (CAERS / "caers.csv").exists():
        pytest.skip(f"CAERS reference data not found at {CAERS} (../shared is not beside the checkout)")
    from yaojian.signals.tables import read_table

    return read_table(CAERS / "caers.csv", case_col="id", drug_col="var1", event_col="var2", strata=["strat1"])


@pytest.fixture(scope="session")
def caers_counts(caers_table):
    from yaojian.signals.disproportionality import count_pairs

    t = caers_table
    return count_pairs(t.report, t.drug, t.event)


@pytest.fixture(scope="session")
def caers_keys(caers_table, caers_counts):
    drugs = np.array(caers_table.drug_labels, dtype=object)[caers_counts.drug]
    events = np.array(caers_table.event_labels, dtype=object)[caers_counts.event]
    return list(zip(drugs.tolist(), events.tolist(), strict=True))


@pytest.fixture(scope="session")
def openebgm(caers_keys):
    """openEBGM 0.9.1's results, aligned row by row with ``caers_counts``."""
    rows = {(r["var1"], r["var2"]): r for r in read_csv(CAERS / "openebgm_0.9.1_reference.csv")}
    assert len(rows) == len(caers_keys)
    return [rows[k] for k in caers_keys]
