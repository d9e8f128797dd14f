"""The fast EPCIS reader 快速接收 against the event model: same hashes, same store rows, same refusals."""

import copy
import itertools
import json

import pytest

from yaojian.trace import epcis_fast
from yaojian.trace.epcis import EpcisError, json_events, load_json, parse_document
from yaojian.trace.epcis_fast import EventBatch, read_document
from yaojian.trace.eventhash import event_hash

from .examples import DATA, example_paths, read_example

CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"cbvmda": "urn:epcglobal:cbv:mda:", "example": "http://ns.example.com/epcis/"},
]
BASE = {
    "type": "ObjectEvent",
    "eventTime": "2026-03-10T16:05:12.250+08:00",
    "eventTimeZoneOffset": "+08:00",
    "epcList": ["urn:yaojian:tracecode:81234560000000000001"],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "readPoint": {"id": "urn:epc:id:sgln:6905678.00001.0"},
    "bizLocation": {"id": "urn:epc:id:sgln:6905678.00001.0"},
    "sourceList": [{"type": "owning_party", "source": "urn:yaojian:uscc:91320102MA2A8002X5"}],
    "destinationList": [{"type": "owning_party", "destination": "urn:yaojian:uscc:91320104MA3D90038P"}],
}
PARENT = "urn:epc:id:sscc:6905678.0000000001"
CHILDREN = ["urn:epc:id:sgtin:6901234.012345.2", " urn:epc:id:sgtin:6901234.012345.1", "urn:yaojian:tracecode:8"]

# One change each to the base event, every form the plain reader takes.
VARIANTS = {
    "base": {},
    "zulu time": {"eventTime": "2026-01-01T00:00:05Z"},
    "no fraction, other offset": {"eventTime": "2026-01-01T00:00:05-05:00", "eventTimeZoneOffset": "-05:00"},
    "microseconds rounded": {"eventTime": "2026-01-01T00:00:05.1234567Z"},
    "half millisecond": {"eventTime": "2026-01-01T00:00:05.0025Z"},
    "rounding into the next second": {"eventTime": "2026-12-31T23:59:59.9996Z"},
    "early year": {"eventTime": "0999-06-01T00:00:00+01:00"},
    "dates across midnight": {"eventTime": "2026-01-01T07:30:00+08:00"},
    "bare, urn and web terms": {
        "bizStep": "urn:epcglobal:cbv:bizstep:retail_selling",
        "disposition": "https://ref.gs1.org/cbv/Disp-retail_sold",
    },
    "own vocabulary uri": {"bizStep": "https://example.cn/steps/cold_check", "disposition": "urn:x:disp:held"},
    "falsy terms": {"bizStep": "", "disposition": None},
    "term with spaces": {"bizStep": " dispensing "},
    "no places": {"readPoint": None, "bizLocation": None},
    "web place": {"readPoint": {"id": "https://id.gs1.org/414/6905678000014"}},
    "place with spaces": {"bizLocation": {"id": " urn:epc:id:sgln:6905678.00001.0 "}},
    "several codes unsorted": {"epcList": CHILDREN},
    "gs1 digital link code": {"epcList": ["https://id.gs1.org/01/06901234123456/21/A001"]},
    "numeric-looking code": {"epcList": ["urn:yaojian:tracecode:81234560000000000001 "]},
    "no codes": {"epcList": []},
    "codes absent": {"epcList": None},
    "falsy parent": {"parentID": ""},
    "parent and children": {"parentID": PARENT, "childEPCs": CHILDREN},
    "add and delete": {"action": "ADD"},
    "delete": {"action": "DELETE"},
    "several parties": {
        "sourceList": [
            {"type": "urn:epcglobal:cbv:sdt:possessing_party", "source": "urn:yaojian:uscc:B"},
            {"type": "location", "source": "urn:epc:id:sgln:6905678.00001.0"},
            {"type": "owning_party", "source": "urn:yaojian:uscc:A"},
            {"type": "owning_party", "source": "urn:yaojian:uscc:C"},
        ]
    },
    "no owning party": {"destinationList": [{"type": "location", "destination": "urn:epc:id:sgln:1234567.00001.0"}]},
    "empty party lists": {"sourceList": [], "destinationList": []},
    "business transactions": {
        "bizTransactionList": [
            {"type": "po", "bizTransaction": "urn:epc:id:gdti:0614141.00001.1618034"},
            {"bizTransaction": "http://transaction.acme.com/po/12345678"},
            {"type": "urn:epcglobal:cbv:btt:desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:1152"},
        ]
    },
    "commissioning with ilmd": {
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "ilmd": {"cbvmda:lotNumber": "B2026031", "cbvmda:itemExpirationDate": "2028-02-29", "example:grade": "A"},
    },
    "ilmd of other forms": {
        "ilmd": {"lotNumber": "0012", "cbvmda:lotNumber": " 12.50 ", "cbvmda:itemExpirationDate": "", "x:y": "gs1:a"}
    },
    "empty ilmd": {"ilmd": {}},
    "event id and record time": {"eventID": "ni:///sha-256;abc?ver=CBV2.0", "recordTime": "2026-03-10T08:05:13Z"},
    "id alias": {"id": "urn:uuid:6c8d6a1c-3f0a-4c5e-9d3b-0f0f0f0f0f0f"},
}
TYPES = {
    "ObjectEvent": {},
    "AggregationEvent": {"parentID": PARENT, "childEPCs": CHILDREN[:2]},
    "TransactionEvent": {"parentID": PARENT},
    "AssociationEvent": {"parentID": PARENT, "childEPCs": CHILDREN[2:]},
}


def _doc(*events) -> bytes:
    body = {"eventList": list(events)}
    return json.dumps({"@context": CONTEXT, "type": "EPCISDocument", "epcisBody": body}).encode()


def _event(variant: str, kind: str = "ObjectEvent") -> dict:
    event = BASE | TYPES[kind] | VARIANTS[variant] | {"type": kind}
    return {k: v for k, v in event.items() if v is not None or k in ("disposition", "readPoint", "bizLocation")}


def _outcome(read):
    """The reader's table as rows, or its refusal reason."""
    try:
        batch = read()
    except EpcisError as exc:
        return exc.reason
    return batch.repeated, batch.table("t").to_pylist()


def _both(data: bytes):
    full = _outcome(lambda: EventBatch.of(parse_document(data)))
    return full, _outcome(lambda: read_document(data))


def _taken(data: bytes) -> list[bool]:
    """Which events of a JSON document the plain reader takes itself."""
    reader, events = json_events(load_json(data))
    plain = epcis_fast._PlainReader(reader)
    return [plain.event(e) is not None for e in events]


@pytest.mark.parametrize("kind,variant", list(itertools.product(TYPES, VARIANTS)))
def test_plain_events_hash_and_flatten_like_the_model(kind, variant):
    data = _doc(_event(variant, kind))
    assert _taken(data) == [True], "the variant should take the plain path"
    full, fast = _both(data)
    assert isinstance(full, tuple) and fast == full


def test_a_document_of_every_variant_with_repeats_and_model_events_between():
    special = {
        **BASE,
        "example:myField": "x",
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 2}],
    }
    events = [_event(v, k) for k, v in itertools.product(TYPES, VARIANTS)]
    events = events + [special] + events[:5]  # the last five repeat earlier ones
    data = _doc(*events)
    assert _taken(data).count(False) == 1
    full, fast = _both(data)
    distinct = {event_hash(e) for e in parse_document(data)}  # eventID/recordTime and spacing are not hashed
    assert fast == full and full[0] == len(events) - len(distinct) >= 5


@pytest.mark.parametrize("rel", [p for p in example_paths() if p.endswith((".json", ".jsonld", ".xml"))])
def test_every_example_document_same_rows_or_same_refusal(rel):
    full, fast = _both(read_example(rel))
    assert fast == full


def test_some_example_events_take_the_plain_path():
    taken = [t for rel in example_paths() if not rel.endswith(".xml") for t in _json_taken(rel)]
    assert 10 < sum(taken) < len(taken)


def _json_taken(rel: str) -> list[bool]:
    try:
        return _taken(read_example(rel))
    except EpcisError:
        return []


def test_our_pharma_flow_and_its_hashes():
    data = (DATA / "pharma_flow.jsonld").read_bytes()
    full, fast = _both(data)
    assert fast == full and any(_taken(data))
    hashes = [event_hash(e) for e in parse_document(data)]
    assert sorted({row["event_hash"] for row in fast[1]}) == sorted(set(hashes))


def _paths(value, path=()):
    yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from _paths(child, (*path, key))


@pytest.mark.parametrize("variant", ["parent and children", "business transactions", "commissioning with ilmd"])
def test_any_wrong_value_anywhere_gives_the_models_refusal_or_rows(variant):
    """Every member of a plain event replaced by every wrong JSON type and by odd strings: both readers agree."""
    event = _event(variant, "AggregationEvent" if variant == "parent and children" else "ObjectEvent")
    for path in list(_paths(event))[1:]:
        for wrong in (None, 0, 1.5, True, "", " ", "x", "urn:x:y", "2026-01-01T00:00:00Z", [], {}, [{}], ["x"]):
            mutated = copy.deepcopy(event)
            target = mutated
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = wrong
            full, fast = _both(_doc(BASE, mutated))
            assert fast == full, (path, wrong)


@pytest.mark.parametrize(
    "extra",
    [
        {"unknownField": 1},
        {"example:myField": {"a": [1, 2]}},
        {"rdfs:comment": "a comment"},
        {"readPoint": {"id": "urn:epc:id:sgln:6905678.00001.0", "example:cold": "yes"}},
        {"sourceList": [{"type": "owning_party", "source": "urn:yaojian:uscc:A", "note": "x"}]},
        {"bizTransactionList": [{"type": "po", "bizTransaction": "urn:x:1", "note": "x"}]},
        {"ilmd": {"cbvmda:lotNumber": ["B1", "B2"]}},
        {"ilmd": {"@id": "x"}},
        {"eventTime": "2026-13-01T00:00:00Z"},
        {"eventTime": "0001-01-01T00:00:00+01:00"},
        {"eventTime": "9999-12-31T23:59:59.9999Z"},
        {"eventTimeZoneOffset": "+8:00"},
        {"recordTime": "yesterday"},
        {"action": "SELL"},
        {"bizStep": "selling_to_patient"},
        {"type": "AggregationEvent", "action": "ADD"},
        {"type": "TransformationEvent"},
        {"epcList": "urn:yaojian:tracecode:1"},
        {"epcList": ["not a uri"]},
    ],
)
def test_events_outside_the_plain_shape_go_through_the_model(extra):
    data = _doc(BASE, BASE | extra)
    assert _taken(data) == [True, False]
    full, fast = _both(data)
    assert fast == full


@pytest.mark.parametrize(
    "data,words",
    [
        (_doc(BASE, BASE | {"example:deep": json.loads("[" * 40 + "]" * 40)}), "JSON 嵌套过深"),
        (b'{"type": "Invoice", "x": ' + b"[" * 40 + b"]" * 40 + b"}", "JSON 嵌套过深"),
        (b'{"type": "Invoice"}', "不是 EPCIS 文档"),
        (b'{"type": "EPCISQueryDocument", "epcisBody": {"queryResults": []}}', "缺少 eventList"),
        (b'{"type": "EPCISDocument", "epcisBody": {"eventList": [', "JSON 格式错误"),
    ],
)
def test_document_refusals_come_in_the_models_order(data, words):
    full, fast = _both(data)
    assert fast == full and words in full


def test_a_single_plain_event_document():
    data = json.dumps(BASE).encode()
    full, fast = _both(data)
    assert isinstance(full, tuple) and fast == full and _taken(data) == [True]


def test_rows_are_the_models_flattening():
    """The batch table holds exactly EpcisEvent.epc_rows (and one row with no code for an event naming none)."""
    events = parse_document(read_example("JSON/WithSensorData/SensorDataExample3.jsonld"))
    events += parse_document((DATA / "pharma_flow.jsonld").read_bytes())
    hashes = [event_hash(e) for e in events]
    expected = []
    for event, digest in zip(events, hashes, strict=True):
        rows = list(event.epc_rows(digest)) or [
            {"event_hash": digest, **dict(zip(epcis_fast.EVENT_COLUMNS, event.store_values(), strict=True))}
            | {"role": None, "epc": None, "quantity": None, "uom": None}
        ]
        expected += [
            row | {"quantity": float(row["quantity"]) if row["quantity"] is not None else None} for row in rows
        ]
    table = EventBatch.of(events, hashes).table("t").to_pylist()
    assert table == [row | {"ingest_id": "t"} for row in expected]
    assert any(row["epc"] is None for row in table)
