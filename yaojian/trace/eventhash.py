"""Canonical event hash 事件指纹: the CBV 2.0 "EPCIS Event Hash ID" (pre-hash string → SHA-256 → ni: URI).

Written from the CBV 2.0 rules (section "EPCIS Event Hash ID"): fields in canonical property order, no separators,
``key=value``, values trimmed, numbers without trailing zeros, times in UTC with milliseconds and ``Z``, list items
sorted by code point, CBV URNs and bare words as Web URIs, EPC URIs as canonical GS1 Digital Links, ILMD and user
extensions as ``{namespace}local=value`` sorted. errorDeclaration, eventID and recordTime are not hashed, so a
re-sent or corrected copy of an event keeps its hash.

Where the published reference implementation (epcis-event-hash-generator 1.9.3, whose hashes are our test vectors)
orders things differently from the prose, we follow the reference so hashes agree across systems:
``parentID`` precedes ``epcList``; bizTransactionList, sourceList, destinationList, ILMD and user extensions are
appended last as one group sorted by their pre-hash text; within a transaction/source/destination the type comes
first (``type=…bizTransaction=…``). Where the reference departs from the rules themselves (extensions hashed twice,
JSON booleans as ``True``, long numbers through a float — listed in tests/test_eventhash.py) we follow the rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from .codes import canonical_digital_link, epc_to_digital_link
from .epcis import (
    CBV_WEB,
    CURIE_PREFIXES,
    SENSOR_METADATA_ORDER,
    SENSOR_REPORT_ORDER,
    EpcisEvent,
    Node,
    QuantityElement,
    parse_time,
    term_uri,
)

HASH_VERSION = "CBV2.0"
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_URN_TO_WEB = {
    "urn:epcglobal:cbv:bizstep:": CBV_WEB + "BizStep-",
    "urn:epcglobal:cbv:disp:": CBV_WEB + "Disp-",
    "urn:epcglobal:cbv:btt:": CBV_WEB + "BTT-",
    "urn:epcglobal:cbv:sdt:": CBV_WEB + "SDT-",
    "urn:epcglobal:cbv:er:": CBV_WEB + "ER-",
}


def canonical_time(value: dt.datetime) -> str:
    """UTC, millisecond precision, ``Z``."""
    utc = value.astimezone(dt.UTC)
    if utc.microsecond % 1000:
        ms = round(utc.microsecond, -3)  # half-even on the microseconds, as the reference does
        utc = utc.replace(microsecond=0) + dt.timedelta(microseconds=ms)
    if utc.year < 1000:  # strftime writes such a year unpadded, as the hash always has
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    # %-formatting: half the time of the f-string or isoformat, once per event hashed.
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond // 1000,
    )  # fmt: skip


def canonical_number(text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if not number.is_finite() or abs(number.adjusted()) > 100:  # absurd magnitudes are hashed as written
        return text
    return format(number.normalize(), "f")


def canonical_value(text: str) -> str:
    """A value as hashed: trimmed, CBV URN → Web URI, CURIE expanded, number without trailing zeros, EPC → DL."""
    # A trimmed URN outside urn:epc…/urn:epcglobal… (our own trace codes and parties) is hashed as written; codes
    # rarely repeat, so they skip the cache.
    if text[:4] == "urn:" and text[4:7] != "epc" and not text[-1].isspace():
        return text
    return _canonical_value(text)


@lru_cache(maxsize=1 << 16)  # locations, steps and parties repeat across events
def _canonical_value(text: str) -> str:
    text = text.strip()
    for urn, web in _URN_TO_WEB.items():
        if text.startswith(urn):
            return web + text[len(urn) :]
    prefix, sep, rest = text.partition(":")
    if sep and prefix in CURIE_PREFIXES:
        return CURIE_PREFIXES[prefix] + rest
    if _NUMBER.match(text):
        return canonical_number(text)
    if text.startswith("urn:epc:"):
        return epc_to_digital_link(text) or text
    if text.startswith(("http://", "https://")):
        return canonical_digital_link(text) or text
    return text


# Sensor fields whose bare words the JSON-LD context maps to a vocabulary (CBV 2.0 rule 16).
_SENSOR_VOCAB = {"type": "https://gs1.org/voc/", "exception": "https://gs1.org/voc/", "component": CBV_WEB + "Comp-"}


def _field_value(name: str, value: str) -> str:
    if name in _SENSOR_VOCAB and ":" not in value:
        return _SENSOR_VOCAB[name] + value.strip()
    # Any field whose name mentions a time (but not an offset) is a timestamp.
    lowered = name.lower()
    if "time" in lowered and "offset" not in lowered:
        try:
            return canonical_time(parse_time(value, ""))
        except ValueError:
            return value.strip()
    return canonical_value(value)


def _generic(node: Node) -> str:
    text = node.name + (f"={canonical_value(node.value)}" if node.value.strip() else "")
    return text + "".join(sorted(_generic(c) for c in node.children))


def _structured(node: Node, order: tuple[str, ...]) -> str:
    """A standard structure with an extension point: ordered fields first, then its extensions sorted."""
    fields = {c.name: c.value for c in node.children if c.name in order}
    text = node.name + "".join(f"{k}={_field_value(k, fields[k])}" for k in order if k in fields and fields[k].strip())
    return text + "".join(sorted(_generic(c) for c in node.children if c.name not in order))


def _sensor_element(node: Node) -> str:
    metadata = [_structured(c, SENSOR_METADATA_ORDER) for c in node.children if c.name == "sensorMetadata"]
    reports = sorted(_structured(c, SENSOR_REPORT_ORDER) for c in node.children if c.name == "sensorReport")
    rest = sorted(_generic(c) for c in node.children if c.name not in ("sensorMetadata", "sensorReport"))
    return node.name + "".join(metadata) + "".join(reports) + "".join(rest)


def _list(name: str, items: list[str]) -> str:
    return name + "".join(sorted(items)) if items else ""


def _quantities(name: str, items: list[QuantityElement]) -> str:
    def one(q: QuantityElement) -> str:
        text = f"quantityElementepcClass={canonical_value(q.epc_class)}"
        if q.quantity is not None:
            text += f"quantity={canonical_number(str(q.quantity))}"
        return text + (f"uom={q.uom.strip()}" if q.uom else "")

    return _list(name, [one(q) for q in items])


def _location(name: str, uri: str | None, extensions: list[Node]) -> str:
    if not uri:
        return ""
    return f"{name}id={canonical_value(uri)}" + "".join(sorted(_generic(n) for n in extensions))


def _typed(name: str, key: str, pairs: list[tuple[str | None, str]]) -> str:
    return _list(name, [(f"type={canonical_value(t)}" if t else "") + f"{key}={canonical_value(v)}" for t, v in pairs])


def prehash_string(event: EpcisEvent) -> str:
    """The canonical pre-hash string of one event."""
    e = event
    simple = (
        ("action", e.action),
        ("transformationID", e.transformation_id),
        ("bizStep", term_uri("bizStep", e.biz_step) if e.biz_step else None),
        ("disposition", term_uri("disposition", e.disposition) if e.disposition else None),
    )
    ordered = [
        f"eventType={e.event_type}",
        f"eventTime={canonical_time(e.event_time)}",
        f"eventTimeZoneOffset={e.event_time_zone_offset}",
        "".join(sorted(f"certificationInfo={canonical_value(c)}" for c in e.certification_info)),
        f"parentID={canonical_value(e.parent_id)}" if e.parent_id else "",
        _list("epcList", [f"epc={canonical_value(x)}" for x in e.epc_list]),
        _list("inputEPCList", [f"epc={canonical_value(x)}" for x in e.input_epc_list]),
        _list("childEPCs", [f"epc={canonical_value(x)}" for x in e.child_epcs]),
        _quantities("quantityList", e.quantity_list),
        _quantities("childQuantityList", e.child_quantity_list),
        _quantities("inputQuantityList", e.input_quantity_list),
        _list("outputEPCList", [f"epc={canonical_value(x)}" for x in e.output_epc_list]),
        _quantities("outputQuantityList", e.output_quantity_list),
        "".join(f"{k}={canonical_value(v)}" for k, v in simple if v),
    ]
    if e.persistent_disposition_set or e.persistent_disposition_unset:
        ordered.append(
            "persistentDisposition"
            + "".join(sorted(f"set={term_uri('disposition', v)}" for v in e.persistent_disposition_set))
            + "".join(sorted(f"unset={term_uri('disposition', v)}" for v in e.persistent_disposition_unset))
        )
    ordered += [
        _location("readPoint", e.read_point, e.read_point_extensions),
        _location("bizLocation", e.biz_location, e.biz_location_extensions),
        _list("sensorElementList", [_sensor_element(n) for n in e.sensor_elements]),
    ]
    trailing = [
        _typed(
            "bizTransactionList",
            "bizTransaction",
            [(b.type and term_uri("bizTransactionType", b.type), b.id) for b in e.biz_transactions],
        ),
        _typed("sourceList", "source", [(term_uri("sourceDestType", p.type), p.id) for p in e.sources]),
        _typed("destinationList", "destination", [(term_uri("sourceDestType", p.type), p.id) for p in e.destinations]),
        _list("ilmd", [_generic(n) for n in e.ilmd]),
        *(_generic(n) for n in e.extensions),
    ]
    return "".join(ordered) + "".join(sorted(t for t in trailing if t))


def event_hash(event: EpcisEvent) -> str:
    """``ni:///sha-256;…?ver=CBV2.0`` of the event."""
    return hash_uri(prehash_string(event))


def hash_uri(prehash: str) -> str:
    """The event hash URI of a pre-hash string."""
    return "ni:///sha-256;" + hashlib.sha256(prehash.encode()).hexdigest() + "?ver=" + HASH_VERSION
