"""The duplicate-sale scan's two passes (hash first, text second) and the shared inputs prepared per chosen rule."""

import datetime as dt

import pytest

from yaojian.trace import anomalies

from .test_anomalies import DRUG, PHARMACY, SPLIT, T0, code, event, flow, found, scan


@pytest.fixture
def colliding(monkeypatch):
    """Every code hashes alike, so the first pass merges all codes' scans into one group."""
    original = anomalies.DuckDBEngine.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.con.execute("CREATE OR REPLACE MACRO xxhash64(x) AS 42")

    monkeypatch.setattr(anomalies.DuckDBEngine, "__init__", init)


def _sell(serial: int, product: str = DRUG, quantity: float | None = None, day: int = 10) -> list:
    return event(
        "retail_selling", T0 + dt.timedelta(days=day), code(product, serial), where=PHARMACY, quantity=quantity
    )


def test_hash_collisions_add_no_duplicate_sale_lead(tmp_path, colliding):
    # Merged, two packs sold once each look like one pack sold twice; two split packs like one over-split pack.
    rows = _sell(1) + _sell(2) + _sell(3, SPLIT, 2.0) + _sell(4, SPLIT, 2.0)
    assert scan(tmp_path / "a", rows, kinds=("duplicate_sale",)).num_rows == 0
    rows += _sell(1, day=11) + _sell(4, SPLIT, 2.0, day=11)
    expected = {("duplicate_sale", code(DRUG, 1), PHARMACY), ("duplicate_sale", code(SPLIT, 4), PHARMACY)}
    assert found(scan(tmp_path / "b", rows, kinds=("duplicate_sale",))) == expected


def test_shared_inputs_are_materialised_only_when_several_rules_read_them(tmp_path, monkeypatch):
    materialised = []
    original = anomalies.DuckDBEngine.materialise

    def recording(self, name, query):
        materialised.append(name)
        original(self, name, query)

    monkeypatch.setattr(anomalies.DuckDBEngine, "materialise", recording)
    rows, f = flow()
    rows += event("retail_selling", T0 + dt.timedelta(days=12), f["units"][0], where=PHARMACY)
    alone = scan(tmp_path, rows, kinds=("duplicate_sale",))
    assert materialised == [] and found(alone) == {("duplicate_sale", f["units"][0], PHARMACY)}
    full = scan(tmp_path, rows)
    assert sorted(materialised) == ["agg", "sales"] and full.equals(alone)
    assert scan(tmp_path, rows, kinds=()).num_rows == 0
