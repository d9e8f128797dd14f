"""Raw (case, drug, event) tables in and pair tables out 病例–药品–事件明细表的读写, for ``yaojian signals run``.

Input is CSV in UTF-8 (with or without BOM) or GBK/GB18030, as elsewhere on the platform. Every
problem names the line and the column so an analyst can fix the export.
"""

from __future__ import annotations

import csv
import io
import json
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .disproportionality import Analysis

OUTPUT_COLUMNS = (
    "drug",
    "event",
    "N",
    "E",
    "PRR",
    "PRR_chi2",
    "PRR_lo",
    "PRR_hi",
    "ROR",
    "ROR_lo",
    "ROR_hi",
    "IC",
    "IC025",
    "IC975",
    "EBGM",
    "EB05",
    "EB95",
    "flags",
)


class TableError(ValueError):
    """Malformed input 输入格式错误; the message names the line (1-based, header = 1) and column."""


@dataclass
class CodedTable:
    """Rows as dense integer codes, with the labels behind the drug and event codes."""

    report: np.ndarray
    drug: np.ndarray
    event: np.ndarray
    stratum: np.ndarray | None
    drug_labels: list[str]
    event_labels: list[str]


def decode(raw: bytes) -> str:
    """UTF-8 (BOM stripped) first, then GB18030 (a superset of GBK); anything else is refused."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("文件编码无法识别：请使用 UTF-8 或 GBK 编码的 CSV")


class _Coder:
    """Dense codes in order of first appearance (a dict lookup per row; rows are read once anyway)."""

    def __init__(self):
        self.codes: dict = {}

    def __call__(self, value) -> int:
        return self.codes.setdefault(value, len(self.codes))

    @property
    def labels(self) -> list:
        return list(self.codes)


def read_table(
    path: str | Path,
    case_col: str = "case_id",
    drug_col: str = "drug",
    event_col: str = "event",
    strata: list[str] | tuple[str, ...] = (),
    delimiter: str = ",",
) -> CodedTable:
    text = decode(Path(path).read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise TableError("第 1 行：文件为空，缺少表头")
    header = [h.strip() for h in header]
    wanted = [case_col, drug_col, event_col, *strata]
    missing = [c for c in wanted if c not in header]
    if missing:
        hint = ""
        if len(header) == 1 and any(d in header[0] for d in ",;\t|" if d != delimiter):
            hint = f"；表头只有一列，分隔符可能不是 {delimiter!r}"
        raise TableError(f"第 1 行：表头缺少列 {', '.join(missing)}（现有列：{', '.join(header)}）{hint}")
    index = [header.index(c) for c in wanted]
    coders = [_Coder() for _ in range(3)]
    strata_coder = _Coder()
    # Compact int64 buffers rather than lists: an export can hold millions of rows.
    report, drug, event, stratum = array("q"), array("q"), array("q"), array("q")
    for line, row in enumerate(reader, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        if len(row) != len(header):
            raise TableError(f"第 {line} 行：有 {len(row)} 列，表头有 {len(header)} 列（分隔符或引号有误？）")
        values = [row[i].strip() for i in index]
        for col, (name, value) in enumerate(zip(wanted, values, strict=True)):
            if not value:
                raise TableError(f"第 {line} 行第 {index[col] + 1} 列（{name}）为空")
        report.append(coders[0](values[0]))
        drug.append(coders[1](values[1]))
        event.append(coders[2](values[2]))
        if strata:
            stratum.append(strata_coder(tuple(values[3:])))
    if not report:
        raise TableError("文件只有表头，没有数据行")
    return CodedTable(
        report=np.frombuffer(report, dtype=np.int64),
        drug=np.frombuffer(drug, dtype=np.int64),
        event=np.frombuffer(event, dtype=np.int64),
        stratum=np.frombuffer(stratum, dtype=np.int64) if strata else None,
        drug_labels=coders[1].labels,
        event_labels=coders[2].labels,
    )


def _fmt(values: np.ndarray) -> list[str]:
    # 10 significant digits; NaN (χ² with an empty margin) as an empty cell.
    return ["" if v != v else f"{v:.10g}" for v in values.tolist()]


def write_results(analysis: Analysis, table: CodedTable, out: str | Path) -> Path:
    """Write one row per pair to ``out`` and the prior to ``out`` with suffix ``.prior.json``."""
    c, m, eb = analysis.counts, analysis.ratios, analysis.eb
    drug_labels = np.array(table.drug_labels, dtype=object)[c.drug]
    event_labels = np.array(table.event_labels, dtype=object)[c.event]
    names = list(analysis.flags)
    flag_matrix = np.stack([analysis.flags[k] for k in names], axis=1)
    flags = [";".join(k for k, on in zip(names, row, strict=True) if on) for row in flag_matrix.tolist()]
    numeric = [
        c.expected,
        m.prr,
        m.prr_chi2,
        m.prr_lo,
        m.prr_hi,
        m.ror,
        m.ror_lo,
        m.ror_hi,
        m.ic,
        m.ic025,
        m.ic975,
        eb.ebgm,
        eb.eb05,
        eb.eb95,
    ]
    columns = [drug_labels.tolist(), event_labels.tolist(), c.n.tolist(), *(_fmt(v) for v in numeric), flags]
    out = Path(out)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(OUTPUT_COLUMNS)
        writer.writerows(zip(*columns, strict=True))
    prior_path = out.with_suffix(".prior.json")
    prior_path.write_text(json.dumps(analysis.prior.as_dict(), indent=2) + "\n", encoding="utf-8")
    return prior_path
