"""File readers 文件读取: CSV (UTF-8, UTF-8 BOM, GBK/GB18030) and .xlsx, with limits against hostile files.

``open_table`` inspects the file once (size, SHA-256, encoding, zip sizes) and refuses it with
``FileRefused`` before any row is parsed; the returned ``Table`` then streams rows.
"""

import codecs
import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

CHUNK = 1 << 20
csv.field_size_limit(1 << 20)  # one cell may hold at most 1 MiB of text


class FileRefused(Exception):
    """The whole file is refused; ``args[0]`` is the Chinese reason."""


@dataclass
class Table:
    path: Path
    sha256: str
    size: int
    encoding: str | None  # None for xlsx
    total_rows: int  # data rows (an estimate for CSV with quoted line breaks)

    def rows(self) -> Iterator[tuple[int, list]]:
        """Yield (row number as the user sees it, cells); the header is row 1 and is yielded first."""
        if self.encoding is None:
            yield from _xlsx_rows(self.path)
            return
        with open(self.path, encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle)
            try:
                for cells in reader:
                    yield reader.line_num, cells
            except csv.Error as exc:
                raise FileRefused(f"CSV 格式错误（第{reader.line_num}行）：{exc}") from None


def _limit(name: str) -> int:
    return getattr(settings, name)


def _scan(path: Path) -> tuple[str, int, int]:
    """SHA-256, size and line count in one pass, without holding the file."""
    digest, size, lines, last = hashlib.sha256(), 0, 0, b""
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            size += len(block)
            lines += block.count(b"\n")
            last = block[-1:]
    if size and last != b"\n":
        lines += 1
    return digest.hexdigest(), size, lines


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open(path, "rb") as handle:
            while block := handle.read(CHUNK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """Strict UTF-8 (with or without BOM), then strict GB18030 (a superset of GBK); else refuse."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8-sig", "gb18030"):
        if _decodes(path, encoding):
            return encoding
    raise FileRefused("无法识别文件编码：请另存为 UTF-8 或 GBK 编码的 CSV 文件")


def _check_xlsx(path: Path) -> None:
    if not zipfile.is_zipfile(path):
        raise FileRefused("不是有效的 xlsx 文件（文件内容与扩展名不符）")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
    except (zipfile.BadZipFile, OSError):
        raise FileRefused("不是有效的 xlsx 文件（压缩包损坏）") from None
    if "xl/workbook.xml" not in names:
        raise FileRefused("不是有效的 xlsx 文件（缺少工作簿）")
    uncompressed = sum(info.file_size for info in infos)
    compressed = sum(info.compress_size for info in infos) or 1
    if uncompressed > _limit("YAOJIAN_IMPORT_MAX_XLSX_UNCOMPRESSED"):
        raise FileRefused("xlsx 解压后体积过大，疑似压缩炸弹，已拒绝")
    worst = max((info.file_size / max(info.compress_size, 1) for info in infos), default=0)
    if max(worst, uncompressed / compressed) > _limit("YAOJIAN_IMPORT_MAX_XLSX_RATIO"):
        raise FileRefused("xlsx 压缩比异常，疑似压缩炸弹，已拒绝")


def _xlsx_sheet(path: Path):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for malformed parts
        raise FileRefused(f"无法读取 xlsx 文件：{type(exc).__name__}") from None
    return workbook, workbook.worksheets[0]


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list]]:
    workbook, sheet = _xlsx_sheet(path)
    try:
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = list(cells)
            while cells and cells[-1] in (None, ""):
                cells.pop()
            yield number, cells
    finally:
        workbook.close()


def open_table(path: Path) -> Table:
    path = Path(path)
    size = path.stat().st_size
    if size > _limit("YAOJIAN_IMPORT_MAX_BYTES"):
        raise FileRefused(
            f"文件过大（{size / 1048576:.1f} MB），上限为 {_limit('YAOJIAN_IMPORT_MAX_BYTES') / 1048576:.0f} MB"
        )
    if size == 0:
        raise FileRefused("文件为空")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        _check_xlsx(path)
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        workbook, sheet = _xlsx_sheet(path)
        try:
            total = max((sheet.max_row or 1) - 1, 0)
        finally:
            workbook.close()
        return Table(path, sha256, size, None, total)
    if suffix not in (".csv", ".txt"):
        raise FileRefused("仅支持 .csv 和 .xlsx 文件")
    sha256, size, lines = _scan(path)
    return Table(path, sha256, size, detect_encoding(path), max(lines - 1, 0))


def header_of(table: Table) -> tuple[Iterator[tuple[int, list]], list[str]]:
    """Start reading: the cleaned header and the iterator positioned on the first data row."""
    rows = table.rows()
    first = next(rows, None)
    if first is None or not any(str(c or "").strip() for c in first[1]):
        raise FileRefused("文件为空或缺少表头")
    header = [str(c or "").replace("\u3000", " ").strip().lstrip("\ufeff").rstrip("*").strip() for c in first[1]]
    if len(header) > _limit("YAOJIAN_IMPORT_MAX_COLUMNS"):
        raise FileRefused(f"列数过多（{len(header)}列），上限为{_limit('YAOJIAN_IMPORT_MAX_COLUMNS')}列")
    return rows, header


def csv_bytes(rows: list[list]) -> bytes:
    """UTF-8 with BOM so that Excel opens Chinese text correctly."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")
