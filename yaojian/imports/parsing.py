"""Cell parsers 单元格解析: each turns one cell into a model value or raises ``CellError`` with a Chinese reason.

Cells arrive as ``str`` (CSV) or as openpyxl values (xlsx: ``str``, numbers, ``datetime``). Codes, dates,
numbers and choices are NFKC-folded (full-width digits, letters and spaces become half-width); free text
only has its surrounding and full-width spaces trimmed so that Chinese punctuation in names survives.
"""

import datetime
import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from yaojian.core import identifiers

# A leading = or @ makes a spreadsheet evaluate the cell (CSV injection); + and - as well in text.
FORMULA_ANY = ("=", "@")
FORMULA_TEXT = ("=", "@", "+", "-", "\t", "\r")
EXCEL_EPOCH = datetime.date(1899, 12, 30)
DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
SERIAL_RE = re.compile(r"^\d{1,7}(?:\.0+)?$")
TRUE_WORDS = {"是", "Y", "YES", "TRUE", "1", "√", "有"}
FALSE_WORDS = {"否", "N", "NO", "FALSE", "0", "×", "无"}
# Reference and date columns repeat the same few values across a file: remember their parse.
memo = functools.lru_cache(maxsize=1 << 16)


class CellError(ValueError):
    """A cell that cannot be accepted; ``args[0]`` is the reason shown to the user."""


def clean_text(value) -> str:
    """Trim ASCII, full-width and non-breaking spaces; keep the characters of the text itself."""
    if value.__class__ is not str:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # Excel stores 13812345678 as a float
        value = str(value)
    if "\u3000" in value or "\xa0" in value:
        value = value.replace("\u3000", " ").replace("\xa0", " ")
    return value.strip()


def fold(value) -> str:
    """Clean and NFKC-fold a code-like cell (full-width Ａ１ → A1)."""
    return unicodedata.normalize("NFKC", clean_text(value)).strip()


def refuse_formula(text: str, prefixes=FORMULA_ANY) -> None:
    if text.startswith(prefixes):
        raise CellError("疑似公式注入：不得以 = + - @ 开头")


def text(max_length: int):
    def parse(value):
        result = clean_text(value)
        refuse_formula(result, FORMULA_TEXT)
        if max_length and len(result) > max_length:
            raise CellError(f"长度超过{max_length}个字符")
        return result

    return parse


def code(max_length: int):
    """An identifier-like text: folded and internal spaces removed (case is kept: stored numbers keep theirs)."""

    def parse(value):
        result = fold(value).replace(" ", "")
        refuse_formula(result, FORMULA_TEXT)
        if len(result) > max_length:
            raise CellError(f"长度超过{max_length}个字符")
        return result

    return parse


@memo
def uscc(value) -> str:
    result = fold(value).replace(" ", "").upper()
    refuse_formula(result)
    reason = identifiers.check_uscc(result)
    if reason:
        raise CellError(f"统一社会信用代码无效：{reason}")
    return result


@memo
def division(value) -> str:
    result = fold(value)
    refuse_formula(result)
    reason = identifiers.check_division_code(result)
    if reason:
        raise CellError(f"行政区划代码无效：{reason}")
    return result


@memo
def approval_number(value) -> str:
    """批准文号/注册证号/备案号, folded; its format is checked against the category by the row check."""
    result = identifiers.normalize(value).replace(" ", "")
    refuse_formula(result, FORMULA_TEXT)
    if len(result) > 64:
        raise CellError("长度超过64个字符")
    return result


@memo
def date(value) -> datetime.date:
    """2024-03-01, 2024/3/1, 2024.3.1, 20240301, 2024年3月1日, Excel serial numbers and Excel date cells."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(value)
    raw = fold(value)
    refuse_formula(raw)
    match = DATE_RE.match(raw) or COMPACT_DATE_RE.match(raw)
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            raise CellError("日期不存在") from None
    if SERIAL_RE.match(raw):
        return _serial(float(raw))
    raise CellError("日期格式无法识别（应如 2024-03-01、2024/3/1、20240301 或 2024年3月1日）")


def _serial(number: float) -> datetime.date:
    if not 1 <= number < 2958466:  # Excel's range: 1900-01-01 … 9999-12-31
        raise CellError("Excel 日期序号超出范围")
    return EXCEL_EPOCH + datetime.timedelta(days=int(number))


def integer(minimum: int = 0, maximum: int = 2**31 - 1):
    def parse(value):
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = value
        else:
            raw = fold(value).replace(",", "")
            refuse_formula(raw)
            try:
                number = float(raw) if "." in raw else int(raw)
            except ValueError:
                raise CellError("应为整数") from None
        if number != int(number):
            raise CellError("应为整数")
        if not minimum <= number <= maximum:
            raise CellError(f"应在{minimum}至{maximum}之间")
        return int(number)

    return parse


def decimal(max_digits: int, places: int):
    limit = Decimal(10) ** (max_digits - places)

    def parse(value):
        raw = fold(value).replace(",", "").removeprefix("¥").removesuffix("元")
        refuse_formula(raw)
        try:
            number = Decimal(raw).quantize(Decimal(1).scaleb(-places))
        except (InvalidOperation, ValueError):
            raise CellError("应为数字") from None
        if number < 0 or number >= limit:
            raise CellError("金额超出范围")
        return number

    return parse


@memo
def boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    raw = fold(value).upper()
    refuse_formula(raw)
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise CellError("应为“是”或“否”")


def choice(choices):
    """A choice column: the Chinese label or the code (case-insensitive) are both accepted."""
    lookup = {}
    for value, label in choices:
        lookup[str(label)] = value
        lookup[str(label).split(" ")[0].upper()] = value  # "A 信用风险低" → also "A"
        lookup[str(value).upper()] = value
    labels = "、".join(str(label) for _, label in choices)

    @memo
    def parse(value):
        raw = fold(value)
        refuse_formula(raw)
        found = lookup.get(raw, lookup.get(raw.upper()))
        if found is None:
            raise CellError(f"不是可选值（可选：{labels}）")
        return found

    parse.labels = labels
    return parse
