"""``yaojian trace`` on the command line: ingest (accepted/duplicate/refused), recall, code, scan."""

import pytest
from django.core.management import CommandError, call_command

from yaojian.core.models import AuditRecord
from yaojian.registry.models import ProductPackage

from .examples import DATA


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("trace", *args, stdout=out)
    return out.getvalue()


def register_sample_codes(world):
    """The sample data set's 药品标识码: 8123456 the unit of sale, 8123457 its case."""
    for level, identifier in ((0, "8123456"), (1, "8123457")):
        ProductPackage.objects.create(product=world.products["gulou"], level=level, identifier=identifier)


def test_ingest_recall_code_and_scan(tmp_path, world):
    root = str(tmp_path / "store")
    unknown = run("ingest", str(DATA / "trace_dataset.csv"), "--root", root, "--no-registry")
    assert "接收 13 个事件" in unknown  # a store without master data takes any well-formed code
    root = str(tmp_path / "checked")
    with pytest.raises(CommandError, match="1 个文件被拒收"):
        run("ingest", str(DATA / "trace_dataset.csv"), "--root", root)  # 8123456 is not registered yet
    register_sample_codes(world)
    out = run("ingest", str(DATA / "trace_dataset.csv"), str(DATA / "pharma_flow.jsonld"), "--root", root)
    assert "trace_dataset.csv：接收 13 个事件，重复 0 个，拒收 0 个" in out and "接收 7 个事件" in out
    assert "接收 0 个事件，重复 13 个" in run("ingest", str(DATA / "trace_dataset.csv"), "--root", root)
    recall = run("recall", "B2026031", "--root", root, "--engine", "duckdb")
    assert "urn:yaojian:uscc:91320102MA2A8002X5\t在库\t1" in recall
    history = run("code", "81234560000000000004", "--root", root).splitlines()
    assert history[0].startswith("时间") and len(history) == 1 + 5
    leads = tmp_path / "leads.csv"
    assert "线索" in run("scan", "--out", str(leads), "--root", root)
    assert leads.read_text(encoding="utf-8").startswith("kind,label,code")
    assert AuditRecord.objects.filter(object_type="trace.traceevent", actor_name="system").count() == 3


def test_refusals_are_errors(tmp_path, db):
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "EPCISDocument", "epcisBody": {"eventList": [')
    with pytest.raises(CommandError, match="1 个文件被拒收"):
        run("ingest", str(bad), "--root", str(tmp_path))
    with pytest.raises(CommandError, match="追溯码无效"):
        run("code", "12345", "--root", str(tmp_path))
    with pytest.raises(CommandError, match="没有批号 B1 的赋码记录"):
        run("recall", "B1", "--root", str(tmp_path))
