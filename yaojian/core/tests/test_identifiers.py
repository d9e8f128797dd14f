import pytest

from yaojian.core import identifiers as ids


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y43", ids.build_uscc("320106", "70000001"), ids.build_uscc("110105", "MA01ABCD")],
)
def test_valid_credit_codes(code):
    assert ids.check_uscc(code) is None
    assert ids.check_uscc(code.lower()) is None  # folded to upper case
    assert ids.check_uscc(" " + code + " ") is None


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y4", "应为18位"),
        ("91350100M000100Y44", "校验位错误"),
        ("91350100M000100YI3", "不允许的字符"),
        ("913501OOM000100Y43", "不允许的字符"),
        ("9135ABCDM000100Y43", "行政区划"),
        ("", "应为18位"),
    ],
)
def test_invalid_credit_codes(code, reason):
    assert reason in ids.check_uscc(code)


def test_credit_code_with_bad_embedded_org_code():
    # Re-sign a code whose organisation-code check character (position 17) is wrong.
    first17 = "91320106" + "70000001" + "9"
    good_org = ids.build_uscc("320106", "70000001")[16]
    assert first17[16] != good_org
    code = first17 + ids.uscc_check_char(first17)
    assert "组织机构代码" in ids.check_uscc(code)


def test_full_width_credit_code_is_normalised():
    full_width = "９１３５０１００Ｍ０００１００Ｙ４３"
    assert ids.check_uscc(full_width) is None


def test_resident_id():
    assert ids.check_resident_id("11010519491231002X") is None
    assert ids.check_resident_id("11010519491231002x") is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("110105194912310021", "校验位"),
        ("11010519491331002X", "出生日期"),
        ("1101051949123100", "18位"),
        ("11010529991231002X", "晚于今天"),
    ],
)
def test_invalid_resident_id(value, reason):
    assert reason in ids.check_resident_id(value)


@pytest.mark.parametrize(
    "number",
    [
        "国药准字H20250001",
        "国药准字Z11020001",
        "国药准字S20190012",
        "国药准字HJ20170001",
        "国药准字HC20200005",
        "国药准字J20100001",
        "苏药制字H04000001",
    ],
)
def test_valid_drug_approval_numbers(number):
    assert ids.check_drug_approval(number) is None


@pytest.mark.parametrize(
    "number", ["国药准字H2025001", "国药准字X20250001", "H20250001", "国药准字H202500011", "国药准字ZJ2025000A"]
)
def test_invalid_drug_approval_numbers(number):
    assert ids.check_drug_approval(number) is not None


@pytest.mark.parametrize(
    "number",
    [
        "国械注准20233140001",
        "苏械注准20222140123",
        "国械注进20172130456",
        "国械注许20212020001",
        "苏宁械备20230012",
        "国械备20200001",
    ],
)
def test_valid_device_numbers(number):
    assert ids.check_device_number(number) is None


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("国械注准20232140001", "第三类"),
        ("苏械注准20233140001", "第二类"),
        ("国械注进20171140001", "第二或第三类"),
        ("械注准2023", "格式"),
    ],
)
def test_invalid_device_numbers(number, reason):
    assert reason in ids.check_device_number(number)


@pytest.mark.parametrize(
    "number",
    ["国妆特字20263800", "浙G妆网备字2023001147", "国妆网备进字（沪）2020009314", "国妆网备进字(沪)2020009314"],
)
def test_valid_cosmetic_numbers(number):
    assert ids.check_cosmetic_number(number) is None


def test_invalid_cosmetic_number():
    assert ids.check_cosmetic_number("妆字123") is not None


@pytest.mark.parametrize(("code", "ok"), [("320106", True), ("990000", False), ("32010", False), ("11010a", False)])
def test_division_code_shape(code, ok):
    assert (ids.check_division_code(code) is None) is ok


def test_masks():
    assert ids.mask_resident_id("11010519491231002X") == "110105********002X"
    assert ids.mask_name("张三丰") == "张**"
    assert ids.mask_phone("13800138000") == "138****8000"
