"""``yaojian signals run``: CSV in (UTF-8, BOM, GBK), pair table and prior out, errors name line and column."""

import csv
import json

import pytest
from django.core.management import CommandError, call_command

from yaojian.signals.tables import OUTPUT_COLUMNS

from .conftest import CAERS

ROWS = [
    ("R1", "阿莫西林", "皮疹"),
    ("R1", "阿莫西林", "皮疹"),  # repeated row: counted once
    ("R2", "阿莫西林", "皮疹"),
    ("R3", "阿莫西林", "恶心"),
    ("R4", "布洛芬", "恶心"),
    ("R5", "布洛芬", "头痛"),
    ("R6", "布洛芬", "恶心"),
]


def write_csv(path, header, rows, encoding="utf-8", delimiter=","):
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(src, out, *extra):
    call_command("signals", "run", "--from-csv", str(src), "--out", str(out), "--prior", "0.5,0.5,2,2,0.2", *extra)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_run_writes_pairs_and_prior(tmp_path, encoding, capsys):
    src = write_csv(tmp_path / "in.csv", ["case_id", "drug", "event"], ROWS, encoding=encoding)
    out = tmp_path / "out.csv"
    run(src, out)
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == OUTPUT_COLUMNS
    by_pair = {(r["drug"], r["event"]): r for r in rows}
    assert len(by_pair) == 4
    rash = by_pair[("阿莫西林", "皮疹")]
    assert rash["N"] == "2"
    assert float(rash["E"]) == pytest.approx(3 * 2 / 6)
    prior = json.loads(out.with_suffix(".prior.json").read_text(encoding="utf-8"))
    assert prior["alpha1"] == 0.5 and prior["N_star"] == 1
    assert "log_likelihood" in prior
    assert "alpha1=0.5" in capsys.readouterr().out


def test_custom_columns_strata_and_criteria(tmp_path):
    # Sex by report: R1, R3, R5 female; R2, R4, R6 male.
    src = write_csv(
        tmp_path / "in.csv",
        ["sex", "report", "product", "reaction"],
        [("F" if int(row[0][1:]) % 2 else "M", *row) for row in ROWS],
    )
    out = tmp_path / "out.csv"
    run(src, out, "--case-col", "report", "--drug-col", "product", "--event-col", "reaction", "--strata", "sex")
    with out.open(encoding="utf-8") as fh:
        by_pair = {(r["drug"], r["event"]): r for r in csv.DictReader(fh)}
    # 布洛芬–恶心: F has 布洛芬 in 1 of 3 reports and 恶心 in 1 → 1/3; M has 2 and 2 of 3 → 4/3; E = 5/3
    # (unstratified it would be 3·3/6 = 1.5).
    assert float(by_pair[("布洛芬", "恶心")]["E"]) == pytest.approx(5 / 3, rel=1e-9)
    run(src, tmp_path / "loose.csv", "--case-col", "report", "--drug-col", "product", "--event-col", "reaction",
        "--criteria", "prr=1", "chi2=0", "n=1", "ror025=0", "ic025=-100", "eb05=0")  # fmt: skip
    with (tmp_path / "loose.csv").open(encoding="utf-8") as fh:
        assert all(r["flags"] == "PRR;ROR;IC;EBGM" for r in csv.DictReader(fh) if float(r["PRR"]) >= 1)


@pytest.mark.parametrize(
    ("header", "rows", "kwargs", "message"),
    [
        (["case_id", "drug"], [("R1", "A")], {}, "第 1 行：表头缺少列 event"),
        (["case_id", "drug", "event"], [("R1", "A", "X"), ("", "A", "X")], {}, "第 3 行第 1 列（case_id）为空"),
        (["case_id", "drug", "event"], [("R1", "A", "X"), ("R2", "", "X")], {}, "第 3 行第 2 列（drug）为空"),
        (["case_id", "drug", "event"], [("R1", "A", "X"), ("R2", "B")], {}, "第 3 行：有 2 列，表头有 3 列"),
        (["case_id", "drug", "event"], [("R1", "A", "X")], {"delimiter": ";"}, "分隔符可能不是 ','"),
    ],
)
def test_malformed_input_names_line_and_column(tmp_path, header, rows, kwargs, message):
    src = write_csv(tmp_path / "bad.csv", header, rows, **kwargs)
    with pytest.raises(CommandError, match=message):
        run(src, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_undecodable_file_and_bad_options(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_bytes(b"case_id,drug,event\nR1,\xff\xfe\xfa,X\n")
    with pytest.raises(CommandError, match="编码无法识别"):
        run(src, tmp_path / "out.csv")
    good = write_csv(tmp_path / "in.csv", ["case_id", "drug", "event"], ROWS)
    with pytest.raises(CommandError, match="无法识别的判定标准"):
        run(good, tmp_path / "out.csv", "--criteria", "lift=2")
    with pytest.raises(CommandError, match="--prior"):
        call_command("signals", "run", "--from-csv", str(good), "--out", str(tmp_path / "o.csv"), "--prior", "1,2")
    with pytest.raises(CommandError, match="找不到输入文件"):
        run(tmp_path / "missing.csv", tmp_path / "out.csv")


def test_caers_end_to_end_fits_the_prior(tmp_path):
    if not (CAERS / "caers.csv").exists():
        pytest.skip(f"CAERS reference data not found at {CAERS}")
    out = tmp_path / "caers.csv"
    call_command(
        "signals", "run", "--from-csv", str(CAERS / "caers.csv"), "--out", str(out),
        "--case-col", "id", "--drug-col", "var1", "--event-col", "var2",
    )  # fmt: skip
    prior = json.loads(out.with_suffix(".prior.json").read_text(encoding="utf-8"))
    assert prior["alpha1"] == pytest.approx(3.255967, rel=1e-3)
    with out.open(encoding="utf-8") as fh:
        flagged = [r for r in csv.DictReader(fh) if "EBGM" in r["flags"].split(";")]
    assert len(flagged) == 131
