"""Packaging levels 药品包装规格 and their 药品标识码 (NMPAB/T 1002-2019): validation and the default allocation.

Each packaging level of a drug (unit of sale, case, pallet) has its own 7-digit 药品标识码, the first 7 digits of
every 20-digit 药品追溯码 printed at that level. The structure rules are the trace code's (yaojian.trace.codes).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from yaojian.trace.codes import DRUG_CODE_LENGTH, PRODUCT_ID_LENGTH, CodeError, parse_drug_trace_code

from .choices import PackageLevel

_SPLIT_UNITS = re.compile(r"[×xX*]\s*(\d{1,4})")  # "0.25g×24片/盒" → 24 split units per pack


def validate_identifier(value: str) -> None:
    """A 药品标识码 is 7 digits and begins a valid 药品追溯码 (all digits, leading 8)."""
    if len(value) != PRODUCT_ID_LENGTH:
        raise ValidationError(f"药品标识码应为 {PRODUCT_ID_LENGTH} 位，实际 {len(value)} 位")
    try:  # the code's own rules, on the shortest code this identifier can begin
        parse_drug_trace_code(value.ljust(DRUG_CODE_LENGTH, "0"))
    except CodeError as exc:
        raise ValidationError(f"药品标识码无效：{exc.reason}") from exc


def level_errors(level, split_units, units_per_pack) -> dict[str, str]:
    """Field → reason for counts that do not fit the packaging level (form, API and import share these rules)."""
    errors = {}
    if split_units is not None and level != PackageLevel.UNIT:
        errors["split_units"] = "拆零单位数只适用于最小销售单元"
    if units_per_pack is not None and level == PackageLevel.UNIT:
        errors["units_per_pack"] = "最小销售单元没有下级包装"
    return errors


def default_identifier(product_pk: int, level: int) -> str:
    """The 药品标识码 allocated to a drug that brought none: 8, a digit 0–2 raised by 3 per level, five digits of
    the product key. Trace stores written before the registry held these codes were made with it, so the data
    migration and the demo generator allocate the same codes (unique for keys below 300,000)."""
    return f"8{(product_pk // 100_000) % 3 + 3 * level}{product_pk % 100_000:05d}"


def split_units_of(specification: str) -> int | None:
    """拆零单位数 read from a specification such as "0.25g×24片/盒" (24); None when it names none."""
    found = _SPLIT_UNITS.search(specification or "")
    return int(found.group(1)) if found else None


def default_packages(product_pk: int, specification: str) -> list[dict]:
    """Field values (but the product) of the three default packaging levels of a drug (unit, case, pallet)."""
    return [
        {
            "level": level,
            "identifier": default_identifier(product_pk, level),
            "split_units": split_units_of(specification) if level == PackageLevel.UNIT else None,
        }
        for level in PackageLevel.values
    ]


def identifier_levels() -> dict[str, int]:
    """The platform's registry hook for :func:`yaojian.trace.codes.parse_drug_trace_code`: every active 药品标识码
    with its packaging level, so an unknown one is refused and one scanned at another level is a mismatch."""
    from .models import ProductPackage  # the models import this module's validators

    return dict(ProductPackage.objects.filter(is_active=True).values_list("identifier", "level"))
