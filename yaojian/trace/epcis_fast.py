"""Fast EPCIS capture 快速接收: the plain event shape read, hashed and flattened into store columns in one pass.

Most captured events are ObjectEvents or AggregationEvents (also TransactionEvents, AssociationEvents) whose fields
are strings, code lists, read point / business location ids, sources, destinations, business transactions and a
flat ILMD. :class:`_PlainReader` takes such an event straight from the decoded JSON: it validates each value with the
event model's own checks (:func:`~yaojian.trace.epcis.parse_time`, :func:`~yaojian.trace.epcis.normalise_term`, the
URI rule), writes the CBV 2.0 pre-hash text directly (the text :func:`~yaojian.trace.eventhash.prehash_string` builds
for the same event) and the values of the store columns, without building an :class:`EpcisEvent`. Anything else —
a field outside that shape, a value of another JSON type, a value the model would refuse — makes it give up, and the
event goes through the full model, which gives the same refusal reason. ``tests/test_epcis_fast.py`` feeds the same
documents through both paths and compares hashes and rows.

:class:`EventBatch` gathers the events of one ingest as columns (an event's own values once, its codes as rows) and
builds the Arrow table of the store layout in bulk.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from .epcis import (
    _URI,
    ACTIONS,
    CODE_COLUMNS,
    EVENT_COLUMNS,
    EpcisError,
    EpcisEvent,
    _bounded_size,
    _JsonReader,
    _offset,
    check_json_depth,
    document_syntax,
    event_where,
    json_events,
    load_json,
    master_data_names,
    normalise_term,
    parse_time,
    parse_xml,
    term_uri,
)
from .eventhash import canonical_time, canonical_value, event_hash, hash_uri
from .store import COLUMNS, SCHEMA

# ---------------------------------------------------------------- columns of one ingest


class EventBatch:
    """The store rows of the events of one ingest, column by column; an event whose hash is already in the batch
    is counted in ``repeated`` and adds no rows (a file that repeats an event stores it once)."""

    def __init__(self):
        self.hashes: list[str] = []
        self.values: list[tuple] = []  # per event, EVENT_COLUMNS
        self.event_index: list[int] = []  # per row: its event
        self.codes: list[tuple] = []  # per row, CODE_COLUMNS
        self.repeated = 0
        self._seen: set[str] = set()

    @classmethod
    def of(cls, events: list[EpcisEvent], hashes: list[str] | None = None) -> EventBatch:
        batch = cls()
        for i, event in enumerate(events):
            batch.add(hashes[i] if hashes is not None else event_hash(event), event.store_values(), event.code_rows())
        return batch

    def __len__(self) -> int:
        return len(self.hashes)

    def add(self, digest: str, values: tuple, codes: list[tuple]) -> None:
        if digest in self._seen:
            self.repeated += 1
            return
        self._seen.add(digest)
        index = len(self.hashes)
        self.hashes.append(digest)
        self.values.append(values)
        # An event naming no EPC (a sensor reading at a place) keeps one row, role and epc null.
        codes = codes or [(None, None, None, None)]
        self.event_index += [index] * len(codes)
        self.codes += codes

    def table(self, ingest_id: str) -> pa.Table:
        """The rows as an Arrow table of :data:`~yaojian.trace.store.SCHEMA` (event columns repeated by ``take``)."""
        types = {name: SCHEMA.field(name).type for name in COLUMNS}
        take = pa.array(self.event_index, pa.int32())
        event_columns = zip(*self.values, strict=True) if self.values else [()] * len(EVENT_COLUMNS)
        columns = {
            name: pa.array(values, types[name]).take(take)
            for name, values in zip(("event_hash", *EVENT_COLUMNS), (self.hashes, *event_columns), strict=True)
        }
        role, epc, quantity, uom = zip(*self.codes, strict=True) if self.codes else [()] * len(CODE_COLUMNS)
        columns |= {
            "role": pa.array(role, types["role"]),
            "epc": pa.array(epc, types["epc"]),
            "quantity": pa.array([float(q) if q is not None else None for q in quantity], types["quantity"]),
            "uom": pa.array(uom, types["uom"]),
            "ingest_id": pa.repeat(pa.scalar(ingest_id, types["ingest_id"]), len(self.codes)),
        }
        return pa.Table.from_arrays([columns[name] for name in COLUMNS], schema=SCHEMA)


# ---------------------------------------------------------------- the plain event shape


class _NotPlain(Exception):
    """The event is not of the plain shape (or the model would refuse it): read it with the full model."""


_PLAIN_TYPES = frozenset({"ObjectEvent", "AggregationEvent", "TransactionEvent", "AssociationEvent"})
_PLAIN_KEYS = frozenset(
    {
        "type", "eventTime", "eventTimeZoneOffset", "recordTime", "eventID", "id", "action", "bizStep", "disposition",
        "readPoint", "bizLocation", "epcList", "parentID", "childEPCs", "bizTransactionList", "sourceList",
        "destinationList", "ilmd",
    }
)  # fmt: skip
_ACTION_TEXT = {action: "action=" + canonical_value(action) for action in ACTIONS}
_LOT_NAMES = master_data_names("lotNumber")
_EXPIRY_NAMES = master_data_names("itemExpirationDate")
_ABSENT = object()
_NO_LIST = ()  # what an absent list member reads as (JSON never gives a tuple)


class _PlainReader:
    """Reads plain events of one document; values that repeat (times, terms, places, parties) are looked at once."""

    def __init__(self, reader: _JsonReader):
        self.reader = reader  # the document's @context, for ILMD names and values
        self.times: dict[str, tuple[dt.datetime, str]] = {}
        self.offsets: dict[str, str] = {}
        self.terms: dict[tuple[str, str], tuple[str, str]] = {}
        self.locations: dict[str, tuple[str, str]] = {}
        self.parties: dict[str, dict[tuple[str, str], tuple[str, str, str]]] = {"source": {}, "destination": {}}
        self.transactions: dict[tuple, str] = {}

    def event(self, obj) -> tuple[str, tuple, list[tuple]] | None:
        """(event hash, store values, code rows) of a plain event, or None to leave it to the full model."""
        try:
            return self._event(obj)
        except (_NotPlain, EpcisError):
            return None

    def _event(self, obj) -> tuple[str, tuple, list[tuple]]:
        if type(obj) is not dict or not obj.keys() <= _PLAIN_KEYS:
            raise _NotPlain
        etype, action = obj.get("type"), obj.get("action")
        if type(etype) is not str or etype not in _PLAIN_TYPES or type(action) is not str or action not in ACTIONS:
            raise _NotPlain
        event_time, time_text = self._time(obj.get("eventTime"))
        offset = self._offset(obj.get("eventTimeZoneOffset"))
        parent = obj.get("parentID")
        parent = _uri(parent) if parent else None  # a falsy parentID is no parentID, as in the model
        if etype == "AggregationEvent" and action != "OBSERVE" and not parent:
            raise _NotPlain
        epcs, epc_text = _codes(obj.get("epcList", _NO_LIST), "epcList")
        children, child_text = _codes(obj.get("childEPCs", _NO_LIST), "childEPCs")
        biz_step, step_text = self._term(obj.get("bizStep"), "bizStep")
        disposition, disposition_text = self._term(obj.get("disposition"), "disposition")
        read_point, read_point_text = self._location(obj.get("readPoint", _ABSENT), "readPoint")
        biz_location, biz_location_text = self._location(obj.get("bizLocation", _ABSENT), "bizLocation")
        sources, source_owner = self._parties(obj.get("sourceList", _NO_LIST), "source")
        destinations, destination_owner = self._parties(obj.get("destinationList", _NO_LIST), "destination")
        transactions = self._transactions(obj.get("bizTransactionList", _NO_LIST))
        ilmd, lot, expiry = self._ilmd(obj["ilmd"]) if "ilmd" in obj else ("", None, None)
        event_id = obj.get("eventID") or obj.get("id")  # checked, neither hashed nor stored
        record_time = obj.get("recordTime")
        if event_id is not None and type(event_id) is not str:
            raise _NotPlain
        if record_time and (type(record_time) is not str or not parse_time(record_time, "")):
            raise _NotPlain
        prehash = "".join(
            (
                "eventType=", etype, "eventTime=", time_text, "eventTimeZoneOffset=", offset,
                "parentID=" + canonical_value(parent) if parent else "",
                epc_text, child_text, _ACTION_TEXT[action], step_text, disposition_text, read_point_text,
                biz_location_text, *sorted(t for t in (transactions, sources, destinations, ilmd) if t),
            )
        )  # fmt: skip
        digest = hash_uri(prehash)
        values = (
            etype, event_time, offset, action, biz_step, disposition, read_point, biz_location, source_owner,
            destination_owner, parent, lot, expiry,
        )  # fmt: skip
        codes = [("epc", e, None, None) for e in epcs]
        if parent:
            codes.append(("parent", parent, None, None))
        codes += [("child", e, None, None) for e in children]
        return digest, values, codes

    def _time(self, text) -> tuple[dt.datetime, str]:
        """(UTC time, hashed text) of an eventTime/recordTime."""
        if type(text) is not str:
            raise _NotPlain
        known = self.times.get(text)
        if known is None:
            value = parse_time(text, "")
            known = self.times[text] = (value.astimezone(dt.UTC), canonical_time(value))
        return known

    def _offset(self, text) -> str:
        if type(text) is not str:
            raise _NotPlain
        known = self.offsets.get(text)
        if known is None:
            known = self.offsets[text] = _offset(text, "")
        return known

    def _term(self, value, field: str) -> tuple[str | None, str]:
        """(normalised term, pre-hash text) of bizStep/disposition; a falsy value is no value, as in the model."""
        if not value:
            return None, ""
        if type(value) is not str:
            raise _NotPlain
        known = self.terms.get((field, value))
        if known is None:
            term = normalise_term(field, value)
            known = self.terms[field, value] = (term, f"{field}={canonical_value(term_uri(field, term))}")
        return known

    def _location(self, value, field: str) -> tuple[str | None, str]:
        """readPoint/bizLocation holding only an id."""
        if value is _ABSENT or value is None:
            return None, ""
        if type(value) is not dict or len(value) != 1 or type(value.get("id")) is not str:
            raise _NotPlain
        known = self.locations.get(value["id"])
        if known is None:
            uri = _uri(value["id"])
            known = self.locations[value["id"]] = (uri, canonical_value(uri))
        return known[0], f"{field}id={known[1]}"

    def _parties(self, items, side: str) -> tuple[str, str | None]:
        """(pre-hash text of sourceList/destinationList, first owning party) of exact {type, source|destination}."""
        if type(items) is not list:
            if items is _NO_LIST:
                return "", None
            raise _NotPlain
        pieces, owner, memo = [], None, self.parties[side]
        for item in items:
            if type(item) is not dict or len(item) != 2:
                raise _NotPlain
            kind, party = item.get("type"), item.get(side)
            if type(kind) is not str or type(party) is not str:
                raise _NotPlain
            known = memo.get((kind, party))
            if known is None:
                kind_term, uri = normalise_term("sourceDestType", kind), _uri(party)
                piece = f"type={canonical_value(term_uri('sourceDestType', kind_term))}{side}={canonical_value(uri)}"
                known = memo[kind, party] = (kind_term, uri, piece)
            pieces.append(known[2])
            if owner is None and known[0] == "owning_party":
                owner = known[1]
        if len(pieces) > 1:
            pieces.sort()
        return (side + "List" + "".join(pieces) if pieces else ""), owner

    def _transactions(self, items) -> str:
        """Pre-hash text of a bizTransactionList of {bizTransaction[, type]} (checked, not stored)."""
        if type(items) is not list:
            if items is _NO_LIST:
                return ""
            raise _NotPlain
        pieces = []
        for item in items:
            if type(item) is not dict or not item.keys() <= {"type", "bizTransaction"}:
                raise _NotPlain
            kind, ident = item.get("type", _ABSENT), item.get("bizTransaction")
            if type(ident) is not str or (kind is not _ABSENT and type(kind) is not str):
                raise _NotPlain
            key = (kind if kind is not _ABSENT else None, ident)
            known = self.transactions.get(key)
            if known is None:
                term = normalise_term("bizTransactionType", kind) if kind is not _ABSENT else None
                typed = f"type={canonical_value(term_uri('bizTransactionType', term))}" if term else ""
                known = self.transactions[key] = f"{typed}bizTransaction={canonical_value(_uri(ident))}"
            pieces.append(known)
        return "bizTransactionList" + "".join(sorted(pieces)) if pieces else ""

    def _ilmd(self, ilmd) -> tuple[str, str | None, str | None]:
        """(pre-hash text, lot, expiry) of an ILMD whose members all hold strings."""
        if type(ilmd) is not dict:
            raise _NotPlain
        pieces, lot, expiry = [], None, None
        for key, value in ilmd.items():
            if type(value) is not str or key.startswith("@"):
                raise _NotPlain
            name, value = self.reader.key(key), self.reader.expand(value).strip()
            pieces.append(f"{name}={canonical_value(value)}" if value else name)
            if lot is None and name in _LOT_NAMES:
                lot = value
            if expiry is None and name in _EXPIRY_NAMES:
                expiry = value
        return ("ilmd" + "".join(sorted(pieces)) if pieces else ""), lot, expiry


def _uri(value) -> str:
    if type(value) is not str:
        raise _NotPlain
    text = value.strip()
    if not _URI.match(text):
        raise _NotPlain
    return text


def _codes(items, field: str) -> tuple[list[str], str]:
    """(EPC URIs, pre-hash text) of epcList/childEPCs."""
    if type(items) is not list:
        if items is _NO_LIST:
            return [], ""
        raise _NotPlain
    codes = [_uri(value) for value in items]
    if len(codes) == 1:
        return codes, field + "epc=" + canonical_value(codes[0])
    return codes, field + "".join(sorted(["epc=" + canonical_value(code) for code in codes])) if codes else ""


# ---------------------------------------------------------------- documents


def read_document(data: bytes | str) -> EventBatch:
    """An EPCIS document (JSON/JSON-LD or XML) as a batch of hashed store rows; refuses as
    :func:`~yaojian.trace.epcis.parse_document` does, with the same reasons."""
    raw = _bounded_size(data)
    if document_syntax(raw) == "xml":
        return EventBatch.of(parse_xml(raw))
    doc = load_json(raw)
    try:
        reader, events = json_events(doc)
    except EpcisError:
        check_json_depth(doc)  # a too-deep document is refused for its depth first, as parse_json does
        raise
    plain = _PlainReader(reader)
    taken = [plain.event(obj) for obj in events]
    # A plain event is a few levels deep by construction; the rest of the document is walked as before.
    check_json_depth(doc, frozenset(id(obj) for obj, t in zip(events, taken, strict=True) if t is not None))
    batch = EventBatch()
    for i, (obj, result) in enumerate(zip(events, taken, strict=True), 1):
        if result is None:
            event = reader.event(obj, event_where(i))
            result = (event_hash(event), event.store_values(), event.code_rows())
        batch.add(*result)
    return batch
