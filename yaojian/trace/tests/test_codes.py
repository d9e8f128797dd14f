"""Trace codes 追溯码: 药品追溯码 structure and registry lookup, GS1 keys and element strings, UDI, conversions."""

import datetime as dt

import pytest

from yaojian.trace.codes import (
    GS,
    CodeError,
    Sgtin,
    canonical_digital_link,
    code_uri,
    epc_to_digital_link,
    gs1_check_digit,
    parse_digital_link,
    parse_drug_trace_code,
    parse_element_string,
    parse_gs1_date,
    parse_sgtin,
    parse_udi,
    validate_gtin,
)

TODAY = dt.date(2026, 6, 1)
REGISTRY = {"8123456": "小盒", "8123457": "中包"}  # 药品标识码 → 包装级别


def refused(kind, fn, *args, **kwargs):
    with pytest.raises(CodeError) as exc:
        fn(*args, **kwargs)
    assert exc.value.kind == kind, exc.value.reason
    return exc.value.reason


# ---------------------------------------------------------------- 药品追溯码


def test_drug_code_valid_with_registry_level():
    code = parse_drug_trace_code("81234560000123456789", REGISTRY, expected_level="小盒")
    assert (code.product_id, code.serial_part, code.packaging_level) == ("8123456", "0000123456789", "小盒")


def test_drug_code_structure_only_without_registry():
    assert parse_drug_trace_code(" 89999990000000000001 ").product_id == "8999999"


@pytest.mark.parametrize(
    "code,kind,words",
    [
        ("8123456000012345678", "wrong_length", "20 位，实际 19 位"),
        ("812345600001234567890", "wrong_length", "实际 21 位"),
        ("71234560000123456789", "bad_prefix", "以 8 开头"),
        ("8123456000012345678X", "not_digits", "数字"),
        ("81234580000123456789", "unknown_product", "8123458 未在产品库中登记"),
    ],
)
def test_drug_code_refusals(code, kind, words):
    assert words in refused(kind, parse_drug_trace_code, code, REGISTRY)


def test_drug_code_packaging_level_mismatch():
    reason = refused("level_mismatch", parse_drug_trace_code, "81234570000123456789", REGISTRY, "小盒")
    assert "中包" in reason and "小盒" in reason


def test_drug_code_registry_as_callable_and_set():
    assert parse_drug_trace_code("81234560000000000001", lambda pid: pid == "8123456").packaging_level is None
    assert parse_drug_trace_code("81234560000000000001", {"8123456"}).product_id == "8123456"
    refused("unknown_product", parse_drug_trace_code, "81234560000000000001", lambda pid: None)


# ---------------------------------------------------------------- GS1 keys


@pytest.mark.parametrize("gtin", ["09506000134352", "9506000134352", "10614141073464", "96385074", "614141073467"])
def test_gtin_check_digit_valid(gtin):
    assert len(validate_gtin(gtin)) == 14


def test_gtin_check_digit_wrong():
    assert "校验位应为 2" in refused("bad_check_digit", validate_gtin, "09506000134353")
    assert gs1_check_digit("0950600013435") == 2
    refused("wrong_length", validate_gtin, "123456789")


@pytest.mark.parametrize(
    "value,expected",
    [
        ("261231", dt.date(2026, 12, 31)),
        ("260200", dt.date(2026, 2, 28)),  # DD = 00: last day of the month
        ("280200", dt.date(2028, 2, 29)),
        ("991231", dt.date(1999, 12, 31)),  # more than 50 years ahead → previous century
        ("750101", dt.date(2075, 1, 1)),
    ],
)
def test_gs1_dates(value, expected):
    assert parse_gs1_date(value, TODAY) == expected


@pytest.mark.parametrize("value", ["261301", "260230", "26123", "2612AB"])
def test_gs1_bad_dates(value):
    refused("bad_date", parse_gs1_date, value, TODAY)


def test_scanner_datamatrix_with_symbology_and_fnc1():
    raw = f"]d2010950600013435217261200 10B2026{GS}21SN0001".replace(" ", "")
    es = parse_element_string(raw, TODAY)
    assert es.gtin == "09506000134352" and es.batch == "B2026" and es.serial == "SN0001"
    assert es.expiry == dt.date(2026, 12, 31)


def test_fnc1_after_fixed_length_field_tolerated():
    es = parse_element_string(f"]d20109506000134352{GS}17261231{GS}10B1", TODAY)
    assert (es.gtin, es.batch) == ("09506000134352", "B1")


def test_bracketed_element_string_and_round_trip():
    es = parse_element_string("(01)09506000134352(17)270115(10)L1(21)S1", TODAY)
    assert es.values == {"01": "09506000134352", "17": "270115", "10": "L1", "21": "S1"}
    scanned = Sgtin("09506000134352", "S1").to_element_string(scanner=True)
    assert scanned == "]d20109506000134352" + "21S1"
    assert parse_element_string(scanned).serial == "S1"


@pytest.mark.parametrize(
    "raw,kind",
    [
        ("(01)09506000134353(21)S1", "bad_check_digit"),
        ("(01)0950600013435(21)S1", "wrong_length"),
        ("(01)09506000134352(99)X", "unknown_ai"),
        ("]d20109506000134352991234", "unknown_ai"),
        ("(01)09506000134352(17)261332", "bad_date"),
        ("(01)09506000134352(21)S1(21)S2", "duplicate_ai"),
        ("(01)09506000134352(21)中文", "bad_character"),
        ("(01)09506000134352(21)" + "X" * 21, "wrong_length"),
    ],
)
def test_element_string_refusals(raw, kind):
    refused(kind, parse_element_string, raw, TODAY)


# ---------------------------------------------------------------- SGTIN forms and conversions


def test_sgtin_three_forms_agree():
    urn = parse_sgtin("urn:epc:id:sgtin:0614141.107346.2017")
    dl = parse_sgtin("https://id.gs1.org/01/10614141073464/21/2017")
    es = parse_sgtin("(01)10614141073464(21)2017")
    assert urn.gtin == dl.gtin == es.gtin == "10614141073464"
    assert urn.to_digital_link() == "https://id.gs1.org/01/10614141073464/21/2017"
    assert dl.to_urn(7) == "urn:epc:id:sgtin:0614141.107346.2017"
    assert urn.to_element_string() == "(01)10614141073464(21)2017"


def test_sgtin_serial_escaping_and_custom_domain():
    sg = parse_sgtin("urn:epc:id:sgtin:0614141.107346.A%2FB")
    assert sg.serial == "A/B" and sg.to_digital_link().endswith("/21/A%2FB")
    assert parse_digital_link("https://brand.example.cn/01/10614141073464/10/LOT/21/2017?x=1").serial == "2017"


def test_sgtin_refusals():
    refused("no_company_prefix", Sgtin("10614141073464", "1").to_urn)
    refused("malformed", parse_digital_link, "https://id.gs1.org/01/10614141073464")
    refused("bad_check_digit", parse_digital_link, "https://id.gs1.org/01/10614141073465/21/1")
    refused("malformed", parse_sgtin, "urn:epc:id:sgtin:0614141.107346")


@pytest.mark.parametrize(
    "epc,dl",
    [
        ("urn:epc:id:sgln:0614141.07346.1234", "https://id.gs1.org/414/0614141073467/254/1234"),
        ("urn:epc:id:sgln:0012345.11111.0", "https://id.gs1.org/414/0012345111112"),
        ("urn:epc:id:pgln:6901234.00001", "https://id.gs1.org/417/6901234000016"),
        ("urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908"),
        ("urn:epc:class:lgtin:4012345.012345.998877", "https://id.gs1.org/01/04012345123456/10/998877"),
        ("urn:epc:idpat:sgtin:4012345.098765.*", "https://id.gs1.org/01/04012345987652"),
        ("urn:epc:id:grai:4012345.55555.987", "https://id.gs1.org/8003/04012345555554987"),
        ("urn:epc:id:giai:4000001.111", "https://id.gs1.org/8004/4000001111"),
    ],
)
def test_epc_uri_to_canonical_digital_link(epc, dl):
    assert epc_to_digital_link(epc) == dl


@pytest.mark.parametrize(
    "epc", ["urn:epc:id:sscc:abc.def", "urn:epc:id:sscc:0614141.", "urn:epc:id:gdti:x.y.z", "urn:epc:id:sgtin:1.2.3"]
)
def test_malformed_epc_uris_are_not_converted(epc):
    assert epc_to_digital_link(epc) is None


def test_digital_link_constrained_canonical_form():
    assert (
        canonical_digital_link("https://brand.example/01/09506000134352/10/L1/21/S1?linkType=all")
        == "https://id.gs1.org/01/09506000134352/21/S1"
    )
    assert canonical_digital_link("http://transaction.acme.com/po/12345678") is None


# ---------------------------------------------------------------- device UDI


def test_udi_di_and_pi():
    udi = parse_udi("]d20106901234567892" + "11260101" + "17290100" + "10LOT7" + GS + "21SN9", TODAY)
    assert udi.di == "06901234567892"
    assert udi.pi == {"10": "LOT7", "11": "260101", "17": "290100", "21": "SN9"}
    assert udi.expiry == dt.date(2029, 1, 31)


def test_udi_refusals():
    refused("missing_di", parse_udi, "(10)LOT7(21)SN9")
    refused("unknown_ai", parse_udi, "(00)106141412345678908(01)06901234567892")
    refused("bad_check_digit", parse_udi, "(01)06901234567893(21)S")


# ---------------------------------------------------------------- one URI per code


def test_code_uri_for_each_kind():
    assert code_uri("81234560000123456789", REGISTRY) == "urn:yaojian:tracecode:81234560000123456789"
    assert code_uri("]C081234560000123456789", REGISTRY) == "urn:yaojian:tracecode:81234560000123456789"
    assert code_uri("(01)10614141073464(21)2017") == "https://id.gs1.org/01/10614141073464/21/2017"
    assert code_uri("urn:epc:id:sgtin:0614141.107346.2017") == "https://id.gs1.org/01/10614141073464/21/2017"
    assert code_uri("urn:epc:id:sscc:0614141.1234567890") == "https://id.gs1.org/00/106141412345678908"
    refused("wrong_length", code_uri, "8123456000012345678")
    refused("unknown_product", code_uri, "89999990000123456789", REGISTRY)
