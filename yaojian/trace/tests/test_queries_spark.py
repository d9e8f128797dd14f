"""DuckDB and Spark give identical answers to every trace query on the same store (Spark in local mode).

One test, one SparkSession for the test session (startup takes seconds): skipped where Java is missing."""

import shutil

import pytest

from yaojian.trace.ingest import ingest_file
from yaojian.trace.queries import Queries

from .examples import DATA
from .test_queries import CASE, WHOLESALER, U
from .test_store import load_sample

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (scripts/system-deps.sh)")


def answers(queries: Queries) -> dict:
    return {
        "history": [queries.history(U + "4"), queries.history(CASE)],
        "public": queries.public(U + "1"),
        "recall": queries.recall("B2026031"),
        "flows": queries.flows("B2026031"),
        "stock": queries.stock(WHOLESALER),
        "missing": (queries.public(U + "9"), queries.recall("NOPE")),
    }


def test_duckdb_and_spark_agree(tmp_path):
    store = load_sample(tmp_path)
    assert ingest_file(DATA / "pharma_flow.jsonld", store).accepted == 7
    duck = answers(Queries(tmp_path, "duckdb"))
    assert duck["recall"] and all(duck["history"])
    assert answers(Queries(tmp_path, "spark")) == duck
