"""Chinese enterprise trace data sets 追溯基本数据集 (NMPAB/T 1006–1008-2020) as CSV, mapped onto the EPCIS model.

The official field tables of 1006 (持有人和生产企业), 1007 (经营企业) and 1008 (使用单位) are not public in machine
form, so this module fixes one CSV layout that carries what those data sets record for a code movement. The same
layout serves all three kinds of enterprise; each row is one event.

CSV spec 列定义 (header row required; Chinese names, English aliases in brackets; order free; extra columns ignored):

===================  ========  =====================================================================================
列名                  必填       内容
===================  ========  =====================================================================================
事件类型 (event)      是        赋码 / 包装关联 / 出库 / 入库 / 零售 / 发药 / 退货 / 销毁
追溯码 (codes)        是        one or more codes separated by ``;``/``；``/``|``: 20-digit 药品追溯码 or a GS1
                               serialised item (element string ``(01)…(21)…`` / ``]d2…``, Digital Link, SGTIN URN)
上级码 (parent)       包装关联   the aggregate's code (box/case/pallet); 追溯码 then holds its children
时间 (time)           是        ``YYYY-MM-DD HH:MM[:SS]`` in China time (+08:00) or ISO 8601 with an offset
企业统一社会信用代码    是        the reporting enterprise (18 characters, GB 32100-2015 check)
(enterprise)
对方统一社会信用代码    出库/入库/  the counterpart: consignee for 出库, consignor for 入库 and 退货
(counterpart)         退货
批号 (batch)          否        lot number, kept as ILMD ``cbvmda:lotNumber`` on 赋码
有效期 (expiry)       否        ``YYYY-MM-DD`` or ``YYYYMMDD``, kept as ILMD ``cbvmda:itemExpirationDate`` on 赋码
数量 (quantity)       否        units moved, positive number (for 拆零 dispensing the split units)
拆零 (split)          否        是/否; 发药 of part of a pack → disposition partially_dispensed
===================  ========  =====================================================================================

Files may be UTF-8 (with or without BOM) or GBK/GB18030 (as Excel on Chinese Windows saves them). Bad rows are
reported with row number (header = row 1), column and reason; good rows still become events, and the caller
decides whether a file with errors is refused as a whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from yaojian.core.identifiers import check_uscc, normalize

from .codes import CodeError, ProductRegistry, code_uri
from .epcis import UNITS_EXTENSION, EpcisEvent, Node, Party

PARTY_URN = "urn:yaojian:uscc:"  # platform namespace for an enterprise by its 统一社会信用代码
CBVMDA = "{urn:epcglobal:cbv:mda}"  # the XML namespace of CBV master-data attributes
CHINA_OFFSET = "+08:00"

COLUMNS = {
    "事件类型": "event",
    "追溯码": "codes",
    "上级码": "parent",
    "时间": "time",
    "企业统一社会信用代码": "enterprise",
    "对方统一社会信用代码": "counterpart",
    "批号": "batch",
    "有效期": "expiry",
    "数量": "quantity",
    "拆零": "split",
}
REQUIRED = ("event", "codes", "time", "enterprise")


@dataclass(frozen=True)
class StepMapping:
    """How one Chinese step maps onto EPCIS: event type, action, bizStep, disposition, and who is source."""

    event_type: str
    action: str
    biz_step: str
    disposition: str | None
    counterpart_is: str | None = None  # "destination" / "source" / None (no counterpart)


STEPS: dict[str, StepMapping] = {
    "赋码": StepMapping("ObjectEvent", "ADD", "commissioning", "active"),
    "包装关联": StepMapping("AggregationEvent", "ADD", "packing", "in_progress"),
    "出库": StepMapping("ObjectEvent", "OBSERVE", "shipping", "in_transit", "destination"),
    "入库": StepMapping("ObjectEvent", "OBSERVE", "receiving", "in_progress", "source"),
    "零售": StepMapping("ObjectEvent", "OBSERVE", "retail_selling", "retail_sold"),
    "发药": StepMapping("ObjectEvent", "OBSERVE", "dispensing", "dispensed"),
    # CBV 2.0 has no "returning" step: a return is received back with disposition returned.
    "退货": StepMapping("ObjectEvent", "OBSERVE", "receiving", "returned", "source"),
    # DELETE: a destroyed unit ceases to exist, so any later event for its code is an anomaly.
    "销毁": StepMapping("ObjectEvent", "DELETE", "destroying", "destroyed"),
}
NEEDS_COUNTERPART = {"出库", "入库", "退货"}


@dataclass(frozen=True)
class RowError:
    """A refused row 错误行: 1-based row number (header = 1), column name, reason."""

    row: int
    column: str
    reason: str


@dataclass
class CsvResult:
    events: list[EpcisEvent] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # source row of each event
    errors: list[RowError] = field(default_factory=list)


class _RowRefused(Exception):
    def __init__(self, column: str, reason: str):
        self.column, self.reason = column, reason


def decode(data: bytes) -> str:
    """UTF-8 (BOM optional) first, then GB18030 (a superset of GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("文件编码无法识别：应为 UTF-8 或 GBK")


def _time(value: str) -> tuple[dt.datetime, str]:
    text = value.strip().replace("/", "-")
    m = re.match(r"^(\d{4}-\d{1,2}-\d{1,2})[ T](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:\d{2})?$", text)
    if not m:
        raise _RowRefused("时间", f"时间 {value!r} 格式应为 YYYY-MM-DD HH:MM:SS")
    offset = (m.group(3) or CHINA_OFFSET).replace("Z", "+00:00")
    y, mo, d = (int(x) for x in m.group(1).split("-"))
    clock = m.group(2) if m.group(2).count(":") == 2 else m.group(2) + ":00"
    try:
        when = dt.datetime.fromisoformat(f"{y:04d}-{mo:02d}-{d:02d}T{clock.zfill(8)}{offset}")
    except ValueError:
        raise _RowRefused("时间", f"时间 {value!r} 不是有效日期时间") from None
    return when, offset


def _expiry(value: str) -> str:
    text = value.strip().replace("/", "-")
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise _RowRefused("有效期", f"有效期 {value!r} 应为 YYYY-MM-DD 或 YYYYMMDD")


def _party(value: str, column: str) -> str:
    code = normalize(value)
    problem = check_uscc(code)
    if problem:
        raise _RowRefused(column, f"统一社会信用代码{problem}")
    return PARTY_URN + code


def _codes(value: str, column: str, registry: ProductRegistry | None) -> list[str]:
    out = []
    for raw in re.split(r"[;；|]", value):
        if raw.strip():
            try:
                out.append(code_uri(raw.strip(), registry))
            except CodeError as exc:
                raise _RowRefused(column, f"{raw.strip()}：{exc.reason}") from None
    if not out:
        raise _RowRefused(column, "缺少追溯码")
    if len(set(out)) != len(out):
        raise _RowRefused(column, "同一行中追溯码重复")
    return out


def _row_event(row: dict[str, str], registry: ProductRegistry | None) -> EpcisEvent:
    for key in REQUIRED:
        if not row.get(key, "").strip():
            raise _RowRefused(_header(key), "必填项为空")
    step_name = row["event"].strip()
    step = STEPS.get(step_name)
    if step is None:
        raise _RowRefused("事件类型", f"未知事件类型 {step_name!r}，应为 {'/'.join(STEPS)}")
    when, offset = _time(row["time"])
    enterprise = _party(row["enterprise"], "企业统一社会信用代码")
    codes = _codes(row["codes"], "追溯码", registry)
    counterpart = row.get("counterpart", "").strip()
    if step_name in NEEDS_COUNTERPART and not counterpart:
        raise _RowRefused("对方统一社会信用代码", f"{step_name}必须填写对方单位")
    other = _party(counterpart, "对方统一社会信用代码") if counterpart else None
    quantity = None
    if row.get("quantity", "").strip():
        try:
            quantity = Decimal(row["quantity"].strip())
        except InvalidOperation:
            raise _RowRefused("数量", f"数量 {row['quantity']!r} 不是数字") from None
        if not quantity.is_finite() or quantity <= 0:
            raise _RowRefused("数量", "数量应为正数")
    split = row.get("split", "").strip() in ("是", "Y", "y", "1", "true")
    event = EpcisEvent(
        event_type=step.event_type,
        event_time=when,
        event_time_zone_offset=offset,
        action=step.action,
        biz_step=step.biz_step,
        disposition="partially_dispensed" if step_name == "发药" and split else step.disposition,
        biz_location=enterprise,
    )
    if step.event_type == "AggregationEvent":
        if not row.get("parent", "").strip():
            raise _RowRefused("上级码", "包装关联必须填写上级码")
        event.parent_id = _codes(row["parent"], "上级码", None)[0]
        event.child_epcs = codes
    else:
        event.epc_list = codes
    if step.counterpart_is == "destination":
        event.sources, event.destinations = [Party("owning_party", enterprise)], [Party("owning_party", other)]
    elif step.counterpart_is == "source":
        event.sources, event.destinations = [Party("owning_party", other)], [Party("owning_party", enterprise)]
    if step_name == "赋码":
        if row.get("batch", "").strip():
            event.ilmd.append(Node(CBVMDA + "lotNumber", row["batch"].strip()))
        if row.get("expiry", "").strip():
            event.ilmd.append(Node(CBVMDA + "itemExpirationDate", _expiry(row["expiry"])))
    if quantity is not None:
        event.extensions.append(Node(UNITS_EXTENSION, str(quantity)))
    return event


def _header(key: str) -> str:
    return next(name for name, k in COLUMNS.items() if k == key)


def parse_csv(data: bytes | str, registry: ProductRegistry | None = None) -> CsvResult:
    """Parse a trace data set CSV into events; every bad row is reported, none is silently dropped."""
    text = decode(data) if isinstance(data, bytes) else data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text))
    result = CsvResult()
    header = next(reader, None)
    if not header:
        result.errors.append(RowError(1, "", "文件为空，缺少表头"))
        return result
    keys = [COLUMNS.get(h.strip(), h.strip() if h.strip() in COLUMNS.values() else None) for h in header]
    missing = [_header(k) for k in REQUIRED if k not in keys]
    if missing:
        result.errors.append(RowError(1, missing[0], f"表头缺少必需列 {'、'.join(missing)}"))
        return result
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        row = {k: v for k, v in zip(keys, values, strict=False) if k}
        try:
            result.events.append(_row_event(row, registry))
            result.rows.append(number)
        except _RowRefused as exc:
            result.errors.append(RowError(number, exc.column, exc.reason))
    return result
