"""The same scans on Apache Spark (local mode) give exactly the DuckDB leads on the same Parquet files."""

import pytest

from yaojian.trace import anomalies, flows

pytest.importorskip("pyspark")


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for the test session (``getOrCreate`` hands the same one to later callers)."""
    return anomalies.spark_session(memory="1g", cores=2)


def test_spark_and_duckdb_find_identical_leads(spark, tmp_path):
    result = flows.generate(tmp_path, events=30_000, seed=11, per_kind=2)
    tables = {"products": result.world.products_table(), "licences": result.world.licences_table()}
    duck = anomalies.run_scan(tmp_path, **tables)
    sparked = anomalies.run_scan(tmp_path, engine="spark", session=spark, **tables)
    assert {kind for kind in duck["kind"].to_pylist()} == set(anomalies.KINDS)
    assert sparked.equals(duck)
