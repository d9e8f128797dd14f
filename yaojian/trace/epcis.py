"""EPCIS 2.0 / CBV 2.0 event model 追溯事件 and safe parsers for JSON/JSON-LD and XML documents.

One event model for every source (EPCIS JSON, EPCIS XML, Chinese enterprise CSV). Each event keeps its EPCs in
role lists (epc_list, child_epcs, input/output) so that :meth:`EpcisEvent.epc_rows` flattens it to one columnar row
per event × EPC, the layout the columnar store uses.

Refusals raise :class:`EpcisError` with a Chinese reason naming the event (its 1-based position) and the field.
A document is parsed completely before anything is returned, so a refusal never leaves half a document behind.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # one capture document; bulk loads go through CSV/Parquet
MAX_DEPTH = 32  # the deepest standard structure (sensor report extensions) needs < 10
EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent", "AssociationEvent")
ACTIONS = ("ADD", "OBSERVE", "DELETE")


class EpcisError(ValueError):
    """A refused document or event 拒收; ``reason`` is the Chinese explanation."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- CBV 2.0 vocabularies 标准词表

CBV_WEB = "https://ref.gs1.org/cbv/"
# Platform extension namespace: units moved per code (拆零 dispensing scans part of a pack).
UNITS_EXTENSION = "{urn:yaojian:trace:}quantity"
# vocabulary → (web URI prefix, legacy URN prefix, bare terms)
VOCABULARIES: dict[str, tuple[str, str, frozenset[str]]] = {
    "bizStep": (
        "BizStep-",
        "urn:epcglobal:cbv:bizstep:",
        frozenset(
            "accepting arriving assembling collecting commissioning consigning creating_class_instance "
            "cycle_counting decommissioning departing destroying disassembling dispensing encoding entering_exiting "
            "holding inspecting installing killing loading other packing picking receiving removing repackaging "
            "repairing replacing reserving retail_selling sampling sensor_reporting shipping staging_outbound "
            "stock_taking stocking storing transporting unloading unpacking void_shipping".split()
        ),
    ),
    "disposition": (
        "Disp-",
        "urn:epcglobal:cbv:disp:",
        frozenset(
            "active available completeness_verified completeness_inferred conformant container_closed "
            "container_open damaged destroyed dispensed disposed encoded expired in_progress in_transit inactive "
            "mismatch_instance mismatch_class mismatch_quantity needs_replacement no_pedigree_match non_conformant "
            "non_sellable_other partially_dispensed recalled reserved retail_sold returned sellable_accessible "
            "sellable_not_accessible stolen unavailable unknown".split()
        ),
    ),
    "bizTransactionType": (
        "BTT-",
        "urn:epcglobal:cbv:btt:",
        frozenset("bol cert desadv inv pedigree po poc prodorder recadv rma testprd upevt".split()),
    ),
    "sourceDestType": (
        "SDT-",
        "urn:epcglobal:cbv:sdt:",
        frozenset("owning_party possessing_party location".split()),
    ),
    "errorReason": ("ER-", "urn:epcglobal:cbv:er:", frozenset("did_not_occur incorrect_data".split())),
}
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_TIME = re.compile(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")
_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")
CURIE_PREFIXES = {"gs1": "https://gs1.org/voc/", "cbv": CBV_WEB, "epcis": "https://ref.gs1.org/epcis/"}


def normalise_term(vocabulary: str, value: str, where: str = "") -> str:
    """One form for a vocabulary value: the bare CBV word for standard terms, the URI itself otherwise.

    ``shipping``, ``urn:epcglobal:cbv:bizstep:shipping`` and ``https://ref.gs1.org/cbv/BizStep-shipping`` all become
    ``shipping``. A value that is neither a CBV term nor a URI is refused.
    """
    web, urn, terms = VOCABULARIES[vocabulary]
    if not isinstance(value, str):
        raise EpcisError(f"{where}{vocabulary} 的值应为字符串，实际为 {type(value).__name__}")
    value = value.strip()
    for prefix in (urn, CBV_WEB + web, "cbv:" + web):
        if value.startswith(prefix):
            word = value[len(prefix) :]
            if word not in terms:
                raise EpcisError(f"{where}{vocabulary} 的值 {value!r} 使用了 CBV 前缀，但 {word!r} 不是 CBV 2.0 标准词")
            return word
    if value in terms:
        return value
    if _URI.match(value):
        return value
    raise EpcisError(f"{where}未知的 {vocabulary} 值 {value!r}：既不是 CBV 2.0 标准词，也不是 URI")


def term_uri(vocabulary: str, value: str) -> str:
    """Web URI of a normalised term (bare CBV words expand; other URIs stay)."""
    web, _urn, terms = VOCABULARIES[vocabulary]
    return CBV_WEB + web + value if value in terms else value


# Standard fields of the two sensor structures, in the CBV 2.0 canonical property order (hash rule, row 23).
SENSOR_METADATA_ORDER = (
    "time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules",
)  # fmt: skip
SENSOR_REPORT_ORDER = (
    "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time", "microorganism",
    "chemicalSubstance", "value", "component", "stringValue", "booleanValue", "hexBinaryValue", "uriValue",
    "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem",
)  # fmt: skip


# ---------------------------------------------------------------- model 事件模型


@dataclass(frozen=True)
class Node:
    """A generic element kept as is (user extensions, ILMD, sensor data): expanded name ``{ns}local``."""

    name: str
    value: str = ""
    children: tuple[Node, ...] = ()


@dataclass(frozen=True)
class QuantityElement:
    """数量元素: an EPC class (product or lot) with a quantity and optional unit of measure (UN/ECE code)."""

    epc_class: str
    quantity: Decimal | None = None
    uom: str | None = None


@dataclass(frozen=True)
class Party:
    """source/destination 来源/去向: a CBV source/destination type and the party or location identifier."""

    type: str
    id: str


@dataclass(frozen=True)
class BizTransaction:
    """业务单据 (purchase order, despatch advice …), type optional."""

    id: str
    type: str | None = None


@dataclass(frozen=True)
class ErrorDeclaration:
    """错误声明: this event did not occur / had wrong data, with optional corrective events."""

    declaration_time: dt.datetime
    reason: str | None = None
    corrective_event_ids: tuple[str, ...] = ()
    extensions: tuple[Node, ...] = ()


@dataclass
class EpcisEvent:
    """One EPCIS 2.0 event 追溯事件. Vocabulary fields hold the normalised form (see :func:`normalise_term`)."""

    event_type: str
    event_time: dt.datetime  # timezone-aware
    event_time_zone_offset: str  # "+08:00" as declared by the capturing party
    action: str | None = None  # ADD / OBSERVE / DELETE; none for TransformationEvent
    biz_step: str | None = None
    disposition: str | None = None
    persistent_disposition_set: list[str] = field(default_factory=list)
    persistent_disposition_unset: list[str] = field(default_factory=list)
    read_point: str | None = None  # 读取点
    read_point_extensions: list[Node] = field(default_factory=list)
    biz_location: str | None = None  # 业务位置
    biz_location_extensions: list[Node] = field(default_factory=list)
    epc_list: list[str] = field(default_factory=list)
    parent_id: str | None = None  # 上级包装 (AggregationEvent, AssociationEvent, TransactionEvent)
    child_epcs: list[str] = field(default_factory=list)
    input_epc_list: list[str] = field(default_factory=list)
    output_epc_list: list[str] = field(default_factory=list)
    quantity_list: list[QuantityElement] = field(default_factory=list)
    child_quantity_list: list[QuantityElement] = field(default_factory=list)
    input_quantity_list: list[QuantityElement] = field(default_factory=list)
    output_quantity_list: list[QuantityElement] = field(default_factory=list)
    transformation_id: str | None = None
    biz_transactions: list[BizTransaction] = field(default_factory=list)
    sources: list[Party] = field(default_factory=list)
    destinations: list[Party] = field(default_factory=list)
    sensor_elements: list[Node] = field(default_factory=list)
    ilmd: list[Node] = field(default_factory=list)  # 批次/实例主数据 (lot number, expiry …)
    extensions: list[Node] = field(default_factory=list)
    certification_info: list[str] = field(default_factory=list)
    event_id: str | None = None  # as sent; the canonical hash is computed separately
    record_time: dt.datetime | None = None
    error_declaration: ErrorDeclaration | None = None

    def epcs(self) -> Iterator[tuple[str, str]]:
        """(role, epc) for every instance-level identifier in the event."""
        yield from (("epc", e) for e in self.epc_list)
        if self.parent_id:
            yield "parent", self.parent_id
        yield from (("child", e) for e in self.child_epcs)
        yield from (("input", e) for e in self.input_epc_list)
        yield from (("output", e) for e in self.output_epc_list)

    def party(self, kind: str, side: str) -> str | None:
        """The first source/destination id of a CBV type (``owning_party`` …); ``side`` is 'source'/'destination'."""
        return next((p.id for p in (self.sources if side == "source" else self.destinations) if p.type == kind), None)

    def master_data(self, attribute: str) -> str | None:
        """A CBV master-data attribute from the ILMD (``lotNumber``, ``itemExpirationDate`` …), whichever way the
        cbvmda namespace was written (see :func:`master_data_names`)."""
        names = master_data_names(attribute)
        return next((n.value for n in self.ilmd if n.name in names), None)

    @property
    def units(self) -> Decimal | None:
        """Units per code declared by the platform extension (拆零), None when the whole unit moved."""
        value = next((n.value for n in self.extensions if n.name == UNITS_EXTENSION), None)
        try:
            return Decimal(value) if value else None
        except InvalidOperation:  # a sender misusing our namespace; the event itself stays valid
            return None

    def store_values(self) -> tuple:
        """The event's own columns of the store layout, in :data:`EVENT_COLUMNS` order."""
        return (
            self.event_type,
            self.event_time.astimezone(dt.UTC),
            self.event_time_zone_offset,
            self.action,
            self.biz_step,
            self.disposition,
            self.read_point,
            self.biz_location,
            self.party("owning_party", "source"),
            self.party("owning_party", "destination"),
            self.parent_id,
            self.master_data("lotNumber"),
            self.master_data("itemExpirationDate"),
        )

    def code_rows(self) -> list[tuple]:
        """(role, epc, quantity, uom) per EPC, then per quantity element (:data:`CODE_COLUMNS`)."""
        units = self.units
        rows = [(role, epc, units if role == "epc" else None, None) for role, epc in self.epcs()]
        quantities = (
            ("epc", self.quantity_list),
            ("child", self.child_quantity_list),
            ("input", self.input_quantity_list),
            ("output", self.output_quantity_list),
        )
        return rows + [(role, q.epc_class, q.quantity, q.uom) for role, items in quantities for q in items]

    def epc_rows(self, event_hash: str) -> Iterator[dict]:
        """One flat row per event × EPC (the columnar layout); quantity-only events yield one row per class.

        ``role`` is epc / parent / child / input / output; lot and expiry come from the ILMD (commissioning)."""
        base = {"event_hash": event_hash, **dict(zip(EVENT_COLUMNS, self.store_values(), strict=True))}
        for row in self.code_rows():
            yield base | dict(zip(CODE_COLUMNS, row, strict=True))


# Store-layout columns (yaojian.trace.store.SCHEMA) filled once per event, and once per event × code.
EVENT_COLUMNS = (
    "event_type", "event_time", "tz_offset", "action", "biz_step", "disposition", "read_point", "biz_location",
    "source_owner", "destination_owner", "parent_id", "lot", "expiry",
)  # fmt: skip
CODE_COLUMNS = ("role", "epc", "quantity", "uom")
_MDA_NAMESPACES = ("{urn:epcglobal:cbv:mda}", "{urn:epcglobal:cbv:mda:}", "cbvmda:")


def master_data_names(attribute: str) -> frozenset[str]:
    """The names a CBV master-data attribute may have in the ILMD: XML ``urn:epcglobal:cbv:mda``, JSON-LD
    ``cbvmda:`` or its expansion."""
    return frozenset(ns + attribute for ns in _MDA_NAMESPACES)


# ---------------------------------------------------------------- shared helpers


def parse_time(value: str, where: str) -> dt.datetime:
    """An xsd:dateTime with an explicit offset (EPCIS requires one)."""
    text = str(value).strip()
    m = _TIME.match(text)
    if not m:
        raise EpcisError(f"{where}时间 {text!r} 不是带时区的 ISO 8601 时间")
    frac = (m.group(2) or ".0")[1:7].ljust(6, "0")
    try:
        value = dt.datetime.fromisoformat(f"{m.group(1)}.{frac}{m.group(3).replace('Z', '+00:00')}")
        if value.year in (1, 9999):  # hashed in UTC to the millisecond: at the edges there may be no such form
            value.astimezone(dt.UTC) + dt.timedelta(microseconds=500)
    except (ValueError, OverflowError):
        raise EpcisError(f"{where}时间 {text!r} 无效") from None
    return value


def _offset(value: str, where: str) -> str:
    text = str(value).strip()
    if not _OFFSET.match(text):
        raise EpcisError(f"{where}eventTimeZoneOffset {text!r} 应为 ±hh:mm")
    return text


def _quantity(value, where: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        q = Decimal(str(value).strip())
    except InvalidOperation:
        raise EpcisError(f"{where}数量 {value!r} 不是数字") from None
    if not q.is_finite() or q < 0:
        raise EpcisError(f"{where}数量 {value!r} 应为非负有限数")
    return q


def _uri(value, where: str, what: str) -> str:
    text = str(value).strip()
    if not _URI.match(text):
        raise EpcisError(f"{where}{what} {text!r} 不是 URI")
    return text


def _check_sensor(node: Node, where: str) -> Node:
    """A sensorElement holds sensorMetadata, sensorReport (one or more) and namespaced extensions only."""
    allowed = {"sensorMetadata": SENSOR_METADATA_ORDER, "sensorReport": SENSOR_REPORT_ORDER}
    for child in node.children:
        if child.name not in allowed and not child.name.startswith("{"):
            raise EpcisError(
                f"{where}sensorElement 中有未知元素 {child.name!r}（标准元素为 sensorMetadata、sensorReport）"
            )
        unknown = [g.name for g in child.children if g.name not in allowed.get(child.name, ()) and "{" not in g.name]
        if child.name in allowed and unknown:
            raise EpcisError(f"{where}{child.name} 中有未知字段 {unknown[0]!r}：不是标准字段，扩展字段须带命名空间")
    if not any(c.name == "sensorReport" for c in node.children):
        raise EpcisError(f"{where}sensorElement 至少应有一个 sensorReport")
    return node


def _check_event(event: EpcisEvent, where: str) -> EpcisEvent:
    if event.event_type != "TransformationEvent":
        if event.action not in ACTIONS:
            raise EpcisError(f"{where}{event.event_type} 的 action 应为 ADD/OBSERVE/DELETE，实际 {event.action!r}")
    elif event.action is not None:
        raise EpcisError(f"{where}TransformationEvent 不应有 action")
    if event.event_type == "AggregationEvent" and event.action in ("ADD", "DELETE") and not event.parent_id:
        raise EpcisError(f"{where}AggregationEvent 的 action 为 {event.action} 时必须有 parentID")
    return event


def _bounded_size(data: bytes | str) -> bytes:
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise EpcisError(f"文档过大：{len(raw)} 字节，超过上限 {MAX_DOCUMENT_BYTES} 字节")
    if not raw.strip():
        raise EpcisError("文档为空")
    return raw


def document_syntax(raw: bytes) -> str:
    """``xml`` or ``json``, from the first character."""
    head = raw.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    if head == b"<":
        return "xml"
    if head in (b"{", b"["):
        return "json"
    raise EpcisError("无法识别的文档格式：既不是 JSON 也不是 XML")


def parse_document(data: bytes | str) -> list[EpcisEvent]:
    """Parse an EPCIS 2.0 document (or a single event), JSON/JSON-LD or XML, chosen by its first character."""
    raw = _bounded_size(data)
    return parse_xml(raw) if document_syntax(raw) == "xml" else parse_json(raw)


# ---------------------------------------------------------------- JSON / JSON-LD


def check_json_depth(doc, skip: frozenset[int] = frozenset()) -> None:
    """Refuse nesting deeper than MAX_DEPTH (containers only, level by level: no recursion on hostile input).

    ``skip``: ids of containers already known to be shallow (events the plain reader took), not walked again."""
    level, depth = [c for c in (doc,) if isinstance(c, dict | list) and id(c) not in skip], 1
    while level:
        if depth > MAX_DEPTH:
            raise EpcisError(f"JSON 嵌套过深：超过上限 {MAX_DEPTH} 层")
        level = [
            c
            for v in level
            for c in (v.values() if isinstance(v, dict) else v)
            if isinstance(c, dict | list) and id(c) not in skip
        ]
        depth += 1


# JSON keys the event model reads; anything else must be a namespaced user extension.
_JSON_EVENT_KEYS = {
    "type", "eventTime", "eventTimeZoneOffset", "recordTime", "eventID", "action", "bizStep", "disposition",
    "persistentDisposition", "readPoint", "bizLocation", "epcList", "parentID", "childEPCs", "inputEPCList",
    "outputEPCList", "quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList",
    "transformationID", "bizTransactionList", "sourceList", "destinationList", "sensorElementList", "ilmd",
    "errorDeclaration", "certificationInfo", "@context", "rdfs:comment", "comment",
    "id",  # the JSON-LD contexts alias "id" and "eventID" to @id
}  # fmt: skip
_JSON_LIST_KEYS = (
    "epcList", "childEPCs", "inputEPCList", "outputEPCList", "quantityList", "childQuantityList",
    "inputQuantityList", "outputQuantityList", "bizTransactionList", "sourceList", "destinationList",
    "sensorElementList",
)  # fmt: skip


class _JsonReader:
    """Turns one JSON-LD document's events into the model, expanding the prefixes its @context declares."""

    def __init__(self, context):
        self.prefixes = dict(CURIE_PREFIXES)
        for item in context if isinstance(context, list) else [context]:
            if isinstance(item, dict):
                self.prefixes.update({k: v for k, v in item.items() if isinstance(v, str) and not k.startswith("@")})

    def expand(self, text: str) -> str:
        prefix, sep, rest = text.partition(":")
        if sep and prefix in self.prefixes and not rest.startswith("//"):
            return self.prefixes[prefix] + rest
        return text

    def key(self, name: str) -> str:
        prefix, sep, rest = name.partition(":")
        if sep and prefix in self.prefixes:
            return "{" + self.prefixes[prefix] + "}" + rest
        return name

    def scalar(self, value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"  # the XML lexical form, so both syntaxes agree
        return self.expand(str(value)) if isinstance(value, str) else str(value)

    def nodes(self, name: str, value) -> list[Node]:
        """A JSON member as extension nodes: lists repeat the element, objects nest, ``#text`` is the value."""
        if isinstance(value, list):
            return [n for item in value for n in self.nodes(name, item)]
        if isinstance(value, dict):
            children = tuple(n for k, v in value.items() if k != "#text" for n in self.nodes(self.key(k), v))
            return [Node(name, self.scalar(value.get("#text", "")).strip(), children)]
        return [Node(name, self.scalar(value).strip())]

    @staticmethod
    def obj(value, where: str, what: str) -> dict:
        if not isinstance(value, dict):
            raise EpcisError(f"{where}{what} 应为 JSON 对象，实际为 {type(value).__name__}")
        return value

    @staticmethod
    def string(value, where: str, what: str) -> str | None:
        """An optional string field."""
        if value is not None and not isinstance(value, str):
            raise EpcisError(f"{where}{what} 应为字符串，实际为 {type(value).__name__}")
        return value

    @staticmethod
    def strings(value, where: str, what: str) -> list[str]:
        """A string or an array of strings, as a list."""
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise EpcisError(f"{where}{what} 应为字符串数组")
        return items

    def untyped(self, obj):
        """Drop a JSON-LD class annotation (``"type": "epcis:SensorElement"``): it names the structure, not data."""
        if isinstance(obj, dict) and self.expand(str(obj.get("type", ""))).startswith(CURIE_PREFIXES["epcis"]):
            return {k: v for k, v in obj.items() if k != "type"}
        return obj

    def extensions(self, obj: dict, known: set[str]) -> list[Node]:
        return [
            n for k, v in obj.items() if k not in known and not k.startswith("@") for n in self.nodes(self.key(k), v)
        ]

    def quantities(self, items, where: str) -> list[QuantityElement]:
        out = []
        for q in items or []:
            if not isinstance(q, dict) or "epcClass" not in q:
                raise EpcisError(f"{where}数量元素缺少 epcClass")
            out.append(
                QuantityElement(
                    _uri(q["epcClass"], where, "epcClass"),
                    _quantity(q.get("quantity"), where),
                    self.string(q.get("uom"), where, "uom"),
                )
            )
        return out

    def parties(self, items, key: str, where: str) -> list[Party]:
        out = []
        for p in items or []:
            if not isinstance(p, dict) or key not in p or "type" not in p:
                raise EpcisError(f"{where}{key}List 的元素应有 type 与 {key}")
            out.append(Party(normalise_term("sourceDestType", p["type"], where), _uri(p[key], where, key)))
        return out

    def location(self, value, where: str, what: str) -> tuple[str | None, list[Node]]:
        if value is None:
            return None, []
        if not isinstance(value, dict) or "id" not in value:
            raise EpcisError(f"{where}{what} 应为含 id 的对象")
        return _uri(value["id"], where, what), self.extensions(value, {"id"})

    def event(self, obj: dict, where: str) -> EpcisEvent:
        if not isinstance(obj, dict):
            raise EpcisError(f"{where}事件应为 JSON 对象")
        etype = obj.get("type")
        if etype not in EVENT_TYPES:
            raise EpcisError(f"{where}未知的事件类型 {etype!r}")
        for key in _JSON_LIST_KEYS:
            if key in obj and not isinstance(obj[key], list):
                raise EpcisError(f"{where}{key} 应为数组（EPCIS 2.0 JSON Schema），实际为 {type(obj[key]).__name__}")
        unknown = [k for k in obj if k not in _JSON_EVENT_KEYS and ":" not in k]
        if unknown:
            raise EpcisError(f"{where}未知字段 {unknown[0]!r}：EPCIS 2.0 中没有此字段，扩展字段须带命名空间前缀")
        if "eventTime" not in obj or "eventTimeZoneOffset" not in obj:
            raise EpcisError(f"{where}缺少必填字段 eventTime 或 eventTimeZoneOffset")
        pd = self.obj(obj.get("persistentDisposition", {}), where, "persistentDisposition")
        read_point, rp_ext = self.location(obj.get("readPoint"), where, "readPoint")
        biz_location, bl_ext = self.location(obj.get("bizLocation"), where, "bizLocation")
        err = obj.get("errorDeclaration")
        cert = obj.get("certificationInfo")
        event = EpcisEvent(
            event_type=etype,
            event_time=parse_time(obj["eventTime"], where),
            event_time_zone_offset=_offset(obj["eventTimeZoneOffset"], where),
            action=self.string(obj.get("action"), where, "action"),
            biz_step=normalise_term("bizStep", obj["bizStep"], where) if obj.get("bizStep") else None,
            disposition=normalise_term("disposition", obj["disposition"], where) if obj.get("disposition") else None,
            persistent_disposition_set=[
                normalise_term("disposition", v, where) for v in self.strings(pd.get("set", []), where, "set")
            ],
            persistent_disposition_unset=[
                normalise_term("disposition", v, where) for v in self.strings(pd.get("unset", []), where, "unset")
            ],
            read_point=read_point,
            read_point_extensions=rp_ext,
            biz_location=biz_location,
            biz_location_extensions=bl_ext,
            epc_list=[_uri(e, where, "EPC") for e in obj.get("epcList", [])],
            parent_id=_uri(obj["parentID"], where, "parentID") if obj.get("parentID") else None,
            child_epcs=[_uri(e, where, "EPC") for e in obj.get("childEPCs", [])],
            input_epc_list=[_uri(e, where, "EPC") for e in obj.get("inputEPCList", [])],
            output_epc_list=[_uri(e, where, "EPC") for e in obj.get("outputEPCList", [])],
            quantity_list=self.quantities(obj.get("quantityList"), where),
            child_quantity_list=self.quantities(obj.get("childQuantityList"), where),
            input_quantity_list=self.quantities(obj.get("inputQuantityList"), where),
            output_quantity_list=self.quantities(obj.get("outputQuantityList"), where),
            transformation_id=self.string(obj.get("transformationID"), where, "transformationID"),
            biz_transactions=[self.biz_transaction(b, where) for b in obj.get("bizTransactionList", [])],
            sources=self.parties(obj.get("sourceList"), "source", where),
            destinations=self.parties(obj.get("destinationList"), "destination", where),
            sensor_elements=[
                _check_sensor(n, where)
                for s in obj["sensorElementList"]
                for n in self.nodes("sensorElement", self.untyped(s))
            ]
            if "sensorElementList" in obj
            else [],
            ilmd=self.extensions(self.obj(obj["ilmd"], where, "ilmd"), set()) if "ilmd" in obj else [],
            extensions=self.extensions(obj, _JSON_EVENT_KEYS),
            certification_info=self.strings(cert, where, "certificationInfo") if cert is not None else [],
            event_id=self.string(obj.get("eventID") or obj.get("id"), where, "eventID"),
            record_time=parse_time(obj["recordTime"], where) if obj.get("recordTime") else None,
            error_declaration=self.error_declaration(self.obj(err, where, "errorDeclaration"), where)
            if err is not None
            else None,
        )
        return _check_event(event, where)

    def biz_transaction(self, b, where: str) -> BizTransaction:
        if not isinstance(b, dict) or "bizTransaction" not in b:
            raise EpcisError(f"{where}bizTransactionList 的元素应为含 bizTransaction 的对象")
        kind = normalise_term("bizTransactionType", b["type"], where) if "type" in b else None
        return BizTransaction(_uri(b["bizTransaction"], where, "bizTransaction"), kind)

    def error_declaration(self, err: dict, where: str) -> ErrorDeclaration:
        if "declarationTime" not in err:
            raise EpcisError(f"{where}errorDeclaration 缺少 declarationTime")
        return ErrorDeclaration(
            parse_time(err["declarationTime"], where),
            normalise_term("errorReason", err["reason"], where) if err.get("reason") else None,
            tuple(self.strings(err.get("correctiveEventIDs", []), where, "correctiveEventIDs")),
            tuple(self.extensions(err, {"declarationTime", "reason", "correctiveEventIDs"})),
        )


def load_json(raw: bytes):
    """The decoded JSON value of a document (not yet checked: see :func:`check_json_depth`, :func:`json_events`)."""
    try:
        return json.loads(raw)
    except RecursionError:  # the C decoder guards its own recursion; far past MAX_DEPTH anyway
        raise EpcisError(f"JSON 嵌套过深：超过上限 {MAX_DEPTH} 层") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise EpcisError(f"JSON 格式错误：{exc}") from None


def event_where(position: int) -> str:
    """How a refusal names an event: its 1-based position in the document."""
    return f"第 {position} 个事件："


def parse_json(data: bytes | str) -> list[EpcisEvent]:
    doc = load_json(_bounded_size(data))
    check_json_depth(doc)
    reader, events = json_events(doc)
    return [reader.event(e, event_where(i)) for i, e in enumerate(events, 1)]


def json_events(doc) -> tuple[_JsonReader, list]:
    """The reader of a decoded document (its @context) and its events, still JSON objects; the document itself
    when it is a single event, as the EPCIS 2.0 capture interface also accepts."""
    if not isinstance(doc, dict):
        raise EpcisError("JSON 文档的根应为对象")
    reader = _JsonReader(doc.get("@context"))
    kind = doc.get("type")
    if kind in EVENT_TYPES:
        return reader, [doc]
    if isinstance(kind, str) and ":" in kind and "eventTime" in doc:
        raise EpcisError(f"扩展事件类型 {kind!r} 不是 EPCIS 2.0 的五种事件类型之一，其含义无法解释，拒收")
    if kind == "EPCISMasterDataDocument":
        raise EpcisError("这是主数据文档（EPCISMasterDataDocument），不含事件，不能作为事件导入")
    if kind not in ("EPCISDocument", "EPCISQueryDocument"):
        raise EpcisError(f"不是 EPCIS 文档：type 为 {kind!r}，应为 EPCISDocument 或 EPCISQueryDocument")
    body = doc.get("epcisBody")
    if not isinstance(body, dict):
        raise EpcisError("EPCIS 文档缺少 epcisBody")
    if kind == "EPCISQueryDocument":
        results = body.get("queryResults")
        body = results.get("resultsBody") if isinstance(results, dict) else None
        body = body if isinstance(body, dict) else {}
    events = body.get("eventList")
    if events is None and "event" in body:
        events = [body["event"]]
    if not isinstance(events, list):
        raise EpcisError("epcisBody 缺少 eventList")
    return reader, events


# ---------------------------------------------------------------- XML


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(el: Element) -> str:
    return (el.text or "").strip()


def _xml_node(el: Element) -> Node:
    # Attributes become child nodes so that an extension's xsi:type etc. is hashed like a child element.
    attrs = tuple(Node(k, v.strip()) for k, v in el.attrib.items())
    return Node(el.tag.removeprefix("{}"), _text(el), attrs + tuple(_xml_node(c) for c in el))


def _flatten_extension(el: Element, level: int = 0) -> list[Element]:
    """EPCIS 1.x wraps later fields in <extension>/<baseExtension>; 2.0 lists them directly. Accept both.

    In 1.x the second-level <extension> is the XSD's ``##local`` reserve: its unqualified children are kept as
    extensions (renamed ``{}name``) instead of being refused as unknown standard fields.
    """
    out = []
    for child in el:
        if child.tag in ("extension", "baseExtension"):
            out.extend(_flatten_extension(child, level + 1))
        elif level >= 2 and not child.tag.startswith("{"):
            renamed = Element("{}" + child.tag, child.attrib)
            renamed.text, renamed[:] = child.text, list(child)
            out.append(renamed)
        else:
            out.append(child)
    return out


def _xml_quantities(el: Element | None, where: str) -> list[QuantityElement]:
    out = []
    for q in el if el is not None else []:
        fields = {c.tag: _text(c) for c in q}
        if "epcClass" not in fields:
            raise EpcisError(f"{where}数量元素缺少 epcClass")
        out.append(
            QuantityElement(
                _uri(fields["epcClass"], where, "epcClass"),
                _quantity(fields.get("quantity"), where),
                fields.get("uom") or None,
            )
        )
    return out


def _xml_location(el: Element | None, where: str, what: str) -> tuple[str | None, list[Node]]:
    if el is None:
        return None, []
    children = _flatten_extension(el)
    ids = [c for c in children if c.tag == "id"]
    if not ids:
        raise EpcisError(f"{where}{what} 缺少 id")
    return _uri(_text(ids[0]), where, what), [_xml_node(c) for c in children if c.tag != "id"]


_XML_EVENT_TAGS = {
    "eventTime", "eventTimeZoneOffset", "recordTime", "eventID", "action", "bizStep", "disposition",
    "persistentDisposition", "readPoint", "bizLocation", "epcList", "parentID", "childEPCs", "inputEPCList",
    "outputEPCList", "quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList",
    "transformationID", "bizTransactionList", "sourceList", "destinationList", "sensorElementList", "ilmd",
    "errorDeclaration", "certificationInfo",
}  # fmt: skip


def _xml_event(el: Element, where: str) -> EpcisEvent:
    etype = _local(el.tag)
    children = _flatten_extension(el)
    by_tag: dict[str, Element] = {}
    for c in children:
        if c.tag in by_tag and c.tag != "certificationInfo":
            raise EpcisError(f"{where}元素 <{c.tag}> 重复出现")
        if c.tag in _XML_EVENT_TAGS:
            by_tag.setdefault(c.tag, c)
        elif not c.tag.startswith("{"):
            raise EpcisError(f"{where}未知元素 <{c.tag}>：EPCIS 中没有此字段，扩展元素须带命名空间")

    def text(tag):
        return _text(by_tag[tag]) if tag in by_tag else None

    def epcs(tag):
        return [_uri(_text(c), where, "EPC") for c in by_tag[tag]] if tag in by_tag else []

    def parties(tag, item):
        out = []
        for c in by_tag.get(tag, []):
            if "type" not in c.attrib:
                raise EpcisError(f"{where}<{item}> 缺少 type 属性")
            out.append(Party(normalise_term("sourceDestType", c.attrib["type"], where), _uri(_text(c), where, item)))
        return out

    if text("eventTime") is None or text("eventTimeZoneOffset") is None:
        raise EpcisError(f"{where}缺少必填字段 eventTime 或 eventTimeZoneOffset")
    pd = by_tag.get("persistentDisposition")
    read_point, rp_ext = _xml_location(by_tag.get("readPoint"), where, "readPoint")
    biz_location, bl_ext = _xml_location(by_tag.get("bizLocation"), where, "bizLocation")
    err = by_tag.get("errorDeclaration")
    event = EpcisEvent(
        event_type=etype,
        event_time=parse_time(text("eventTime"), where),
        event_time_zone_offset=_offset(text("eventTimeZoneOffset"), where),
        action=text("action"),
        biz_step=normalise_term("bizStep", text("bizStep"), where) if text("bizStep") else None,
        disposition=normalise_term("disposition", text("disposition"), where) if text("disposition") else None,
        persistent_disposition_set=[normalise_term("disposition", _text(c), where) for c in pd or [] if c.tag == "set"],
        persistent_disposition_unset=[
            normalise_term("disposition", _text(c), where) for c in pd or [] if c.tag == "unset"
        ],
        read_point=read_point,
        read_point_extensions=rp_ext,
        biz_location=biz_location,
        biz_location_extensions=bl_ext,
        epc_list=epcs("epcList"),
        parent_id=_uri(text("parentID"), where, "parentID") if text("parentID") else None,
        child_epcs=epcs("childEPCs"),
        input_epc_list=epcs("inputEPCList"),
        output_epc_list=epcs("outputEPCList"),
        quantity_list=_xml_quantities(by_tag.get("quantityList"), where),
        child_quantity_list=_xml_quantities(by_tag.get("childQuantityList"), where),
        input_quantity_list=_xml_quantities(by_tag.get("inputQuantityList"), where),
        output_quantity_list=_xml_quantities(by_tag.get("outputQuantityList"), where),
        transformation_id=text("transformationID"),
        biz_transactions=[
            BizTransaction(
                _uri(_text(c), where, "bizTransaction"),
                normalise_term("bizTransactionType", c.attrib["type"], where) if c.attrib.get("type") else None,
            )
            for c in by_tag.get("bizTransactionList", [])
        ],
        sources=parties("sourceList", "source"),
        destinations=parties("destinationList", "destination"),
        sensor_elements=[_check_sensor(_xml_node(c), where) for c in by_tag.get("sensorElementList", [])],
        ilmd=[_xml_node(c) for c in _flatten_extension(by_tag["ilmd"])] if "ilmd" in by_tag else [],
        extensions=[_xml_node(c) for c in children if c.tag.startswith("{")],
        certification_info=[_text(c) for c in children if c.tag == "certificationInfo"],
        event_id=text("eventID"),
        record_time=parse_time(text("recordTime"), where) if text("recordTime") else None,
        error_declaration=_xml_error(err, where) if err is not None else None,
    )
    return _check_event(event, where)


def _xml_error(el: Element, where: str) -> ErrorDeclaration:
    fields = {c.tag: c for c in _flatten_extension(el)}
    if "declarationTime" not in fields:
        raise EpcisError(f"{where}errorDeclaration 缺少 declarationTime")
    reason = _text(fields["reason"]) if "reason" in fields else None
    return ErrorDeclaration(
        parse_time(_text(fields["declarationTime"]), where),
        normalise_term("errorReason", reason, where) if reason else None,
        tuple(_text(c) for c in fields.get("correctiveEventIDs", [])),
        tuple(_xml_node(c) for c in fields.values() if c.tag.startswith("{")),
    )


class _DepthBoundedBuilder(TreeBuilder):
    """Refuses a too-deep document while it is being read, before a deep tree is ever built."""

    def __init__(self):
        super().__init__()
        self.depth = 0

    def start(self, tag, attrs):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise EpcisError(f"XML 嵌套过深：超过上限 {MAX_DEPTH} 层")
        return super().start(tag, attrs)

    def end(self, tag):
        self.depth -= 1
        return super().end(tag)


def parse_xml(data: bytes | str) -> list[EpcisEvent]:
    raw = _bounded_size(data)
    try:
        # A bare <!DOCTYPE x> (some GS1 examples carry one) is harmless; any entity declaration (billion laughs)
        # or external reference (XXE) is refused before expansion.
        parser = DefusedXMLParser(
            target=_DepthBoundedBuilder(), forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
        parser.feed(raw)
        root = parser.close()
    except DefusedXmlException as exc:
        raise EpcisError(f"XML 含有被禁止的 DTD/实体声明（{type(exc).__name__}），拒收") from None
    except ParseError as exc:
        raise EpcisError(f"XML 格式错误：{exc}") from None
    kind = _local(root.tag)
    if kind == "EPCISMasterDataDocument":
        raise EpcisError("这是主数据文档（EPCISMasterDataDocument），不含事件，不能作为事件导入")
    if kind == "EPCISCaptureJob":
        raise EpcisError("这是捕获任务状态响应（EPCISCaptureJob），不是 EPCIS 文档，不含事件")
    if kind not in ("EPCISDocument", "EPCISQueryDocument"):
        raise EpcisError(f"不是 EPCIS 文档：根元素为 <{kind}>")
    lists = list(root.iter("EventList"))
    if len(lists) != 1:
        raise EpcisError("EPCIS 文档应恰有一个 EventList")
    events = []
    for wrapper in lists[0]:
        for el in _flatten_extension(wrapper) if wrapper.tag == "extension" else [wrapper]:
            where = event_where(len(events) + 1)
            if el.tag not in EVENT_TYPES:
                raise EpcisError(f"{where}未知的事件类型 <{el.tag}>")
            events.append(_xml_event(el, where))
    return events
