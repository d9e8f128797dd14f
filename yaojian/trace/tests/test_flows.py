"""Synthetic flows 模拟流向: deterministic, in the store layout, and every planted anomaly found with no false lead."""

import collections

import pyarrow.dataset as ds
import pytest

from yaojian.trace import anomalies, flows


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("flows")
    result = flows.generate(root, events=120_000, seed=7, per_kind=4, ground_truth=root / "truth.csv")
    return root, result


def _scan(root, result):
    leads = anomalies.run_scan(root, products=result.world.products_table(), licences=result.world.licences_table())
    return set(zip(leads["kind"].to_pylist(), leads["code"].to_pylist(), leads["party"].to_pylist(), strict=True))


def test_layout_and_size(planted):
    root, result = planted
    assert abs(result.rows - 120_000) < 30_000  # the split-pack share of the drawn products varies
    files = list((root / "events").glob("event_date=*/part-*.parquet"))
    assert files and all(f.parent.name[len("event_date=") :].count("-") == 2 for f in files)
    table = ds.dataset(root / "events", format="parquet").to_table()
    assert table.num_rows == result.rows and set(flows.SCHEMA.names) <= set(table.column_names)
    steps = collections.Counter(table["biz_step"].to_pylist())
    for step in ("commissioning", "packing", "shipping", "receiving", "retail_selling", "dispensing", "destroying"):
        assert steps[step] > 0, step


def test_every_planted_anomaly_found_and_nothing_else(planted):
    root, result = planted
    truth = set(result.truth)
    assert collections.Counter(kind for kind, _, _ in truth) == {kind: 4 for kind in anomalies.KINDS}
    assert _scan(root, result) == truth
    lines = (root / "truth.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "kind,code,party" and len(lines) == len(truth) + 1


def test_clean_flows_raise_no_lead(tmp_path):
    result = flows.generate(tmp_path, events=60_000, seed=8, clean=True)
    assert result.truth == [] and _scan(tmp_path, result) == set()


def test_same_seed_same_flows(tmp_path):
    first = flows.generate(tmp_path / "a", events=20_000, seed=3, per_kind=1)
    second = flows.generate(tmp_path / "b", events=20_000, seed=3, per_kind=1)
    a = ds.dataset(tmp_path / "a" / "events", format="parquet").to_table().sort_by("event_hash")
    b = ds.dataset(tmp_path / "b" / "events", format="parquet").to_table().sort_by("event_hash")
    assert first.truth == second.truth and a.equals(b)


def test_generate_command(tmp_path, db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("trace_generate", "--events", "20000", "--seed", "2", "--per-kind", "1", "--root", str(tmp_path),
                 "--ground-truth", str(tmp_path / "truth.csv"), stdout=out)  # fmt: skip
    assert "植入异常 7 条" in out.getvalue()
    assert len((tmp_path / "truth.csv").read_text(encoding="utf-8").splitlines()) == 8
    assert list((tmp_path / "events").glob("event_date=*/part-g2.parquet"))


def test_worker_processes_and_chunks_change_nothing_but_speed(tmp_path):
    one = flows.generate(tmp_path / "a", events=30_000, seed=4, per_kind=1, chunk_pallets=10)
    two = flows.generate(tmp_path / "b", events=30_000, seed=4, per_kind=1, chunk_pallets=10, workers=2)
    a = ds.dataset(tmp_path / "a" / "events", format="parquet").to_table()
    b = ds.dataset(tmp_path / "b" / "events", format="parquet").to_table()
    assert one.truth == two.truth and a.equals(b) and not (tmp_path / "a" / "staging").exists()
    assert len(list((tmp_path / "a" / "events").glob("event_date=*/*.parquet"))) == len(
        list((tmp_path / "a" / "events").glob("event_date=*"))
    )
