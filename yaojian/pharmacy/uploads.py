"""Upload files 文件导入 of purchase records: CSV (UTF-8 or GBK, read by ``imports.readers``) or .xlsx.

The header row names the columns in Chinese (小票号, 行号, 销售时间, 药品名称, 监测类别, 数量, 购药人姓名, 身份证号)
or by field name; 行号, 监测类别 and 数量 may be left out. Rows are numbered as the spreadsheet shows them.
"""

import tempfile
from pathlib import Path

from yaojian.imports.readers import FileRefused, open_table

from .services import COLUMNS, REQUIRED, RowError, SubmissionRejected

HEADERS = {label: name for name, label in COLUMNS.items()} | {name: name for name in COLUMNS}
TEMPLATE_HEADER = list(COLUMNS.values())


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(row number, values by field) for every non-empty data row; SubmissionRejected for a bad file or header."""
    try:
        table = open_table(path)
        rows = table.rows()
        _number, header = next(rows, (1, []))
    except FileRefused as exc:
        raise SubmissionRejected([RowError(1, "文件", str(exc))]) from None
    fields = [HEADERS.get(str(cell or "").strip()) for cell in header]
    missing = [COLUMNS[name] for name in REQUIRED if name not in fields]
    if missing:
        raise SubmissionRejected([RowError(1, label, "缺少必填列") for label in missing])
    result = []
    try:
        for number, cells in rows:
            if not any(str(cell).strip() for cell in cells if cell is not None):
                continue
            result.append((number, {f: cell for f, cell in zip(fields, cells, strict=False) if f is not None}))
    except FileRefused as exc:
        raise SubmissionRejected([RowError(0, "文件", str(exc))]) from None
    return result


def read_upload(upload) -> list[tuple[int, dict]]:
    """Read a Django ``UploadedFile`` through a temporary file (the readers check size, encoding and zip bombs)."""
    suffix = Path(upload.name).suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        return read_rows(path)
