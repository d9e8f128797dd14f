"""EPCIS 2.0 ingest parsing: every GS1 example document, our pharma cases, vocabulary normalisation, hostile input."""

import copy
import json
from xml.etree import ElementTree

import pytest

from yaojian.trace import epcis
from yaojian.trace.epcis import EpcisError, normalise_term, parse_document
from yaojian.trace.eventhash import event_hash

from .examples import DATA, REFUSED, example_paths, read_example

# Valid documents with no events: master data carried in the EPCIS header, an empty EventList.
NO_EVENTS = {"XML/WithFullCombinationOfFields/masterdata_all_possible_fields.xml"}


@pytest.mark.parametrize("rel", example_paths() or ["(examples missing)"])
def test_every_example_document_parses_or_is_refused_precisely(rel):
    data = read_example(rel)
    if rel in REFUSED:
        with pytest.raises(EpcisError) as exc:
            parse_document(data)
        assert REFUSED[rel] in exc.value.reason
        return
    events = parse_document(data)
    assert bool(events) != (rel in NO_EVENTS), rel
    for event in events:
        assert event.event_type in epcis.EVENT_TYPES
        assert event.event_time.tzinfo is not None


def test_example_count_is_the_manifest():
    assert len(example_paths()) in (0, 141)


def test_example_961_fields():
    first, second = parse_document(read_example("JSON/Example_9.6.1-ObjectEvent.jsonld"))
    assert (first.action, first.biz_step, first.disposition) == ("OBSERVE", "shipping", "in_transit")
    assert first.epc_list == ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"]
    assert first.read_point == "urn:epc:id:sgln:0614141.07346.1234"
    assert first.event_time_zone_offset == "-06:00"
    assert second.biz_location == "urn:epc:id:sgln:0012345.11111.0"
    assert [b.type for b in second.biz_transactions] == ["po", "desadv"]
    assert second.extensions[0].name == "{http://ns.example.com/epcis/}myField"


def test_json_and_xml_of_961_give_the_same_model():
    (j1, _), (x1, _) = (parse_document(read_example(p)) for p in (
        "JSON/Example_9.6.1-ObjectEvent.jsonld", "XML/Example_9.6.1-ObjectEvent-2020_06_18a.xml"))  # fmt: skip
    assert (j1.event_time, j1.biz_step, j1.disposition, j1.epc_list) == (
        x1.event_time, x1.biz_step, x1.disposition, x1.epc_list)  # fmt: skip


def test_aggregation_transformation_error_declaration_and_12_layout():
    (agg,) = parse_document(read_example("JSON/Example_9.6.3-AggregationEvent.jsonld"))
    assert agg.parent_id and agg.child_epcs and agg.action == "OBSERVE"
    (tr,) = parse_document(read_example("JSON/Example_9.6.4-TransformationEvent.jsonld"))
    assert tr.action is None and tr.input_quantity_list and tr.output_epc_list
    first, _ = parse_document(read_example("JSON/WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.jsonld"))
    assert first.error_declaration.reason == "incorrect_data"
    assert first.error_declaration.corrective_event_ids
    # EPCIS 1.2: TransformationEvent inside <extension>, quantityList inside the event's <extension>.
    (old,) = parse_document(read_example("XSL/1.2/XML/TransformationEvent.xml"))
    assert old.event_type == "TransformationEvent"


def test_transaction_and_association_events_are_kept():
    kinds = {e.event_type for e in parse_document(read_example("XML/Example-TransactionEvent-2020_07_03y.xml"))}
    assert kinds == {"TransactionEvent"}
    assoc = parse_document(read_example("XML/AssociationEvent/AssociationEventExamples.xml"))
    assert {e.event_type for e in assoc} == {"AssociationEvent"} and len(assoc) == 8


# ---------------------------------------------------------------- our pharma cases (GS1 has none)


def test_pharma_flow_retail_dispensing_destroying():
    events = parse_document((DATA / "pharma_flow.jsonld").read_bytes())
    steps = [(e.event_type, e.biz_step, e.disposition, e.action) for e in events]
    assert steps == [
        ("ObjectEvent", "commissioning", "active", "ADD"),
        ("AggregationEvent", "packing", "in_progress", "ADD"),
        ("ObjectEvent", "shipping", "in_transit", "OBSERVE"),
        ("ObjectEvent", "retail_selling", "retail_sold", "OBSERVE"),
        ("ObjectEvent", "dispensing", "partially_dispensed", "OBSERVE"),
        ("ObjectEvent", "destroying", "destroyed", "DELETE"),
        ("ObjectEvent", "decommissioning", "inactive", "DELETE"),
    ]
    assert events[0].master_data("lotNumber") == "B2026031"
    assert events[2].party("owning_party", "destination") == "urn:epc:id:pgln:6905678.00001"


def test_flattening_one_row_per_event_and_epc():
    events = parse_document((DATA / "pharma_flow.jsonld").read_bytes())
    rows = [row for e in events for row in e.epc_rows("h")]
    assert len(rows) == 2 + 3 + 1 + 1 + 1 + 1 + 1
    packing = [r for r in rows if r["biz_step"] == "packing"]
    assert {r["role"] for r in packing} == {"parent", "child"}
    assert all(r["event_time"].utcoffset().total_seconds() == 0 for r in rows)
    assert {r["lot"] for r in rows if r["biz_step"] == "commissioning"} == {"B2026031"}


# ---------------------------------------------------------------- vocabularies


@pytest.mark.parametrize(
    "value", ["shipping", "urn:epcglobal:cbv:bizstep:shipping", "https://ref.gs1.org/cbv/BizStep-shipping"]
)
def test_bizstep_forms_normalise_to_one(value):
    assert normalise_term("bizStep", value) == "shipping"


def test_private_uri_vocabulary_is_kept():
    assert normalise_term("bizStep", "https://example.cn/steps/cold_check") == "https://example.cn/steps/cold_check"


@pytest.mark.parametrize(
    "value,words",
    [
        ("selling_to_patient", "既不是 CBV 2.0 标准词，也不是 URI"),
        ("urn:epcglobal:cbv:bizstep:selling", "不是 CBV 2.0 标准词"),
        ("https://ref.gs1.org/cbv/BizStep-nonsense", "不是 CBV 2.0 标准词"),
    ],
)
def test_unknown_vocabulary_refused(value, words):
    with pytest.raises(EpcisError) as exc:
        normalise_term("bizStep", value)
    assert words in exc.value.reason


def _doc(event_json: str) -> bytes:
    return (
        '{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument",'
        '"schemaVersion":"2.0","creationDate":"2026-01-01T00:00:00Z","epcisBody":{"eventList":[' + event_json + "]}}"
    ).encode()


GOOD = (
    '{"type":"ObjectEvent","eventTime":"2026-01-01T08:00:00+08:00","eventTimeZoneOffset":"+08:00",'
    '"epcList":["urn:epc:id:sgtin:6901234.012345.1"],"action":"OBSERVE","bizStep":"%s","disposition":"%s"}'
)


@pytest.mark.parametrize(
    "event,words",
    [
        (GOOD % ("selling_to_patient", "retail_sold"), "第 2 个事件：未知的 bizStep 值 'selling_to_patient'"),
        (GOOD % ("retail_selling", "sold_out"), "未知的 disposition 值 'sold_out'"),
        (GOOD.replace('"OBSERVE"', '"SELL"') % ("retail_selling", "retail_sold"), "action 应为 ADD/OBSERVE/DELETE"),
        (GOOD.replace('"eventTimeZoneOffset":"+08:00",', "") % ("shipping", "in_transit"), "缺少必填字段"),
        (GOOD.replace("08:00:00+08:00", "08:00:00") % ("shipping", "in_transit"), "不是带时区的 ISO 8601 时间"),
        (GOOD.replace('"action"', '"actoin"') % ("shipping", "in_transit"), "未知字段 'actoin'"),
        (GOOD.replace("urn:epc:id:sgtin:6901234.012345.1", "not a uri") % ("shipping", "in_transit"), "不是 URI"),
        ('{"type":"SaleEvent"}', "未知的事件类型 'SaleEvent'"),
    ],
)
def test_bad_event_refuses_the_whole_document(event, words):
    with pytest.raises(EpcisError) as exc:
        parse_document(_doc(GOOD % ("shipping", "in_transit") + "," + event))
    assert words in exc.value.reason


# ---------------------------------------------------------------- hostile input


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2"><EPCISBody><EventList/></EPCISBody>&lol3;
</epcis:EPCISDocument>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2"><EPCISBody><EventList>&xxe;</EventList></EPCISBody>
</epcis:EPCISDocument>"""


@pytest.mark.parametrize(
    "data,words",
    [
        (BILLION_LAUGHS, "被禁止的 DTD/实体声明"),
        (XXE, "被禁止的 DTD/实体声明"),
        (b"<epcis:EPCISDocument xmlns:epcis='urn:epcglobal:epcis:xsd:2'><EPCISBody>", "XML 格式错误"),
        (b'{"type": "EPCISDocument", "epcisBody": {"eventList": [', "JSON 格式错误"),
        (b"[" * 100 + b"]" * 100, "JSON 嵌套过深"),
        (b"<a>" * 100 + b"</a>" * 100, "XML 嵌套过深"),
        (b"   ", "文档为空"),
        (b"hello", "无法识别的文档格式"),
        (b'{"type": "Invoice"}', "不是 EPCIS 文档"),
        (b"<html><body/></html>", "不是 EPCIS 文档"),
        (b'{"type": "EPCISDocument"}', "缺少 epcisBody"),
    ],
)
def test_hostile_and_malformed_documents(data, words):
    with pytest.raises(EpcisError) as exc:
        parse_document(data)
    assert words in exc.value.reason


def test_repeated_xml_field_refused():
    xml = (DATA / "pharma_flow.xml").read_bytes()
    doubled = xml.replace(b"<action>ADD</action>", b"<action>ADD</action><action>DELETE</action>", 1)
    with pytest.raises(EpcisError) as exc:
        parse_document(doubled)
    assert "第 1 个事件：元素 <action> 重复出现" in exc.value.reason


def test_oversized_document_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(epcis, "MAX_DOCUMENT_BYTES", 1000)
    with pytest.raises(EpcisError) as exc:
        parse_document(_doc(",".join([GOOD % ("shipping", "in_transit")] * 10)))
    assert "文档过大" in exc.value.reason


def test_bom_and_bare_doctype_accepted():
    xml = (DATA / "pharma_flow.xml").read_bytes()
    with_doctype = xml.replace(b"<epcis:EPCISDocument", b"<!DOCTYPE project>\n<epcis:EPCISDocument", 1)
    assert len(parse_document(b"\xef\xbb\xbf" + with_doctype)) == 7


def _paths(value, path=()):
    yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from _paths(child, (*path, key))


@pytest.mark.parametrize(
    "rel",
    [
        "JSON/WithFullCombinationOfFields/object_event_all_possible_fields.jsonld",
        "JSON/WithFullCombinationOfFields/transformation_event_all_possible_fields.jsonld",
    ],
)
def test_wrong_json_types_anywhere_give_a_refusal_not_a_crash(rel):
    """Every field of a full event replaced by every wrong JSON type: refused, or parsed and hashed; never a crash."""
    doc = json.loads(read_example(rel))
    event = doc["epcisBody"]["eventList"][0]
    for path in list(_paths(event))[1:]:
        for wrong in (None, 1, True, "x", [], {}, [{}]):
            mutated = copy.deepcopy(doc)
            target = mutated["epcisBody"]["eventList"][0]
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = wrong
            try:
                events = parse_document(json.dumps(mutated).encode())
            except EpcisError:
                continue
            assert all(event_hash(e).startswith("ni:///") for e in events)


def test_mutated_xml_gives_a_refusal_not_a_crash():
    """Each element of a full XML event given junk text, a junk child, a junk type, emptied or removed."""
    src = read_example("XML/WithFullCombinationOfFields/object_event_all_possible_fields.xml")
    root = ElementTree.fromstring(src.replace(b"<!DOCTYPE project>", b""))
    for index in range(len(list(root.iter()))):
        for mutate in ("text", "child", "type", "empty", "remove"):
            doc = copy.deepcopy(root)
            element = list(doc.iter())[index]
            if mutate == "text":
                element.text = "zz"
            elif mutate == "child":
                element.append(ElementTree.Element("junk"))
            elif mutate == "type":
                element.set("type", "zz")
            elif mutate == "empty":
                element.text, element[:] = "", []
            else:
                parent = next((p for p in doc.iter() if element in list(p)), None)
                if parent is None:  # the document element itself
                    continue
                parent.remove(element)
            try:
                events = parse_document(ElementTree.tostring(doc))
            except EpcisError:
                continue
            assert all(event_hash(e).startswith("ni:///") for e in events)
