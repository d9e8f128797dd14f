"""Import templates 导入模板: per kind, an .xlsx (data sheet + 填写说明) or a CSV with one example row."""

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from .readers import csv_bytes
from .specs import Column, Spec


def _note(column: Column) -> str:
    parts = [column.help] if column.help else []
    labels = getattr(column.parse, "labels", "")
    if labels:
        parts.append(f"可填：{labels}（或对应代码）")
    if column.parse.__name__ == "date":
        parts.append("日期，如 2024-03-01、2024/3/1、20240301、2024年3月1日")
    if column.ref:
        parts.append("按编号关联已有数据")
    return "；".join(parts)


def example_row(spec: Spec) -> list[str]:
    return [c.example for c in spec.columns]


def template_xlsx(spec: Spec) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = spec.title
    sheet.append(spec.headers)
    # Examples are text cells: a leading "-" or a long digit string must not turn into a number.
    sheet.append(example_row(spec))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(spec.columns, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(
            12, len(column.header) * 2 + 2
        )
    notes = workbook.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "说明", "示例"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in spec.columns:
        notes.append([column.header, "必填" if column.required else "选填", _note(column), column.example])
    notes.append([])
    notes.append(["说明", "", "第1行为表头，请勿修改；示例行导入前请删除。唯一标识：" + "、".join(spec.key), ""])
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["C"].width = 60
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_csv(spec: Spec) -> bytes:
    return csv_bytes([spec.headers, example_row(spec)])
