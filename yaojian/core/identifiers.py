"""Identifier rules 标识规则 with their check algorithms.

Each ``check_*`` returns ``None`` when the value is valid, otherwise a Chinese reason
that names what is wrong. ``normalize_*`` trims and folds width/case first. Sources
and confidence: ../shared/reference/regulatory-rules.md §5 (all algorithms there
were cross-checked by running code).
"""

import re
import unicodedata
from datetime import date

# GB 32100-2015 统一社会信用代码: alphabet without I, O, Z, S, V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1,3,9,27,19,26,…,28
ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]  # GB 11714 组织机构代码
RIC_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # GB 11643 居民身份证号

DRUG_APPROVAL_RE = re.compile(r"^国药准字(?:[HZS][CJ]?\d{8}|[JBTF]\d{8})$")
HOSPITAL_PREPARATION_RE = re.compile(r"^[\u4e00-\u9fa5]{1,2}药制字[HZ]\d{8}$")
PROVINCE_ABBR = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
DEVICE_REG_RE = re.compile(rf"^(国|[{PROVINCE_ABBR}])械注([准进许])(\d{{4}})([123])(\d{{2}})(\d{{4}})$")
DEVICE_FILING_RE = re.compile(rf"^(国|[{PROVINCE_ABBR}][\u4e00-\u9fa5]?)械备(\d{{4}})(\d{{4,5}})$")
COSMETIC_RE = re.compile(
    rf"^(?:国妆特(?:进)?字(?:\d{{8}}|G\d{{8}})|卫妆特字.+|[{PROVINCE_ABBR}]G妆网备字\d{{10}}|"
    rf"国妆网备进字[(（][{PROVINCE_ABBR}][)）]\d{{10}})$"
)


def normalize(value: str) -> str:
    """Fold full-width characters and surrounding space (Excel users paste both)."""
    return unicodedata.normalize("NFKC", str(value or "")).strip().upper()


def _org_code_check(body: str) -> str:
    total = sum(
        (int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10) * w for ch, w in zip(body, ORG_CODE_WEIGHTS, strict=True)
    )
    r = 11 - total % 11
    return {10: "X", 11: "0"}.get(r, str(r))


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def check_uscc(value: str) -> str | None:
    """统一社会信用代码 (GB 32100-2015), including the embedded 组织机构代码 check."""
    code = normalize(value)
    if len(code) != 18:
        return f"应为18位，实际为{len(code)}位"
    bad = [ch for ch in code if ch not in USCC_ALPHABET]
    if bad:
        return f"含有不允许的字符“{bad[0]}”（不使用 I、O、Z、S、V）"
    if not code[2:8].isdigit():
        return "第3–8位应为行政区划代码（数字）"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"校验位错误：应为“{expected}”，实际为“{code[17]}”"
    org = code[8:17]
    if all(ch.isdigit() or "A" <= ch <= "Z" for ch in org[:8]) and org[8] != _org_code_check(org[:8]):
        return "内含组织机构代码校验位错误"
    return None


def check_resident_id(value: str) -> str | None:
    """居民身份证号 (GB 11643-1999)."""
    code = normalize(value)
    if len(code) != 18:
        return f"应为18位，实际为{len(code)}位"
    if not code[:17].isdigit() or not (code[17].isdigit() or code[17] == "X"):
        return "前17位应为数字，末位为数字或X"
    try:
        born = date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return "出生日期无效"
    if born > date.today():
        return "出生日期晚于今天"
    r = (12 - sum(int(c) * w for c, w in zip(code[:17], RIC_WEIGHTS, strict=True)) % 11) % 11
    expected = "X" if r == 10 else str(r)
    if code[17] != expected:
        return f"校验位错误：应为“{expected}”"
    return None


def check_division_code(value: str) -> str | None:
    """行政区划代码 (GB/T 2260) shape; membership is checked against the Division table."""
    code = normalize(value)
    if not re.fullmatch(r"\d{6}", code):
        return "应为6位数字"
    if code[:2] not in PROVINCE_PREFIXES:
        return f"省级代码“{code[:2]}”不存在"
    return None


PROVINCE_PREFIXES = {
    *(str(n) for n in range(11, 16)),
    "21",
    "22",
    "23",
    *(str(n) for n in range(31, 38)),
    *(str(n) for n in range(41, 47)),
    *(str(n) for n in range(50, 55)),
    *(str(n) for n in range(61, 66)),
    "71",
    "81",
    "82",
}


def check_drug_approval(value: str) -> str | None:
    """药品批准文号: 国药准字 + H/Z/S (+C/J) + 8 digits; legacy J/B/T/F; 医疗机构制剂."""
    code = normalize(value).replace(" ", "")
    if DRUG_APPROVAL_RE.match(code) or HOSPITAL_PREPARATION_RE.match(code):
        return None
    if not code.startswith("国药准字"):
        return "应以“国药准字”开头"
    return "格式应为 国药准字 + H/Z/S（可带C/J）+ 8位数字"


def check_device_number(value: str) -> str | None:
    """医疗器械注册证号 / 备案号 (SAMR 令第47号 第一百一十五、一百一十六条)."""
    code = normalize(value).replace(" ", "")
    m = DEVICE_REG_RE.match(code)
    if m:
        issuer, kind, _year, klass = m.group(1), m.group(2), m.group(3), m.group(4)
        if issuer == "国" and kind == "准" and klass != "3":
            return "境内“国械注准”应为第三类"
        if issuer != "国" and (kind != "准" or klass != "2"):
            return "省级注册证应为“准”且为第二类"
        if kind in "进许" and klass == "1":
            return "进口/港澳台注册证应为第二或第三类"
        return None
    if DEVICE_FILING_RE.match(code):
        return None
    if code.startswith("国食药监械") or code.startswith("国食药监械(准)"):
        return None  # pre-2014 legacy numbers are accepted as they stand
    return "格式应为 ×械注准/进/许YYYY类别分类码序号 或 ×械备YYYY序号"


def check_cosmetic_number(value: str) -> str | None:
    """化妆品注册证号 / 备案编号 (regulatory-rules.md §5; verify against the gazette)."""
    code = normalize(value).replace(" ", "")
    return None if COSMETIC_RE.match(code) else "格式应为 国妆特字YYYY####、××G妆网备字YYYY######等"


def check_product_number(category: str, value: str) -> str | None:
    """Approval/registration/filing number by product category."""
    checker = {"drug": check_drug_approval, "device": check_device_number, "cosmetic": check_cosmetic_number}
    return checker[category](value)


def mask_resident_id(value: str) -> str:
    """Show only the area code and last four characters: 110105********002X."""
    code = normalize(value)
    if len(code) < 10:
        return "*" * len(code)
    return code[:6] + "*" * (len(code) - 10) + code[-4:]


def mask_name(value: str) -> str:
    """张三丰 → 张**."""
    value = str(value or "")
    return value[:1] + "*" * (len(value) - 1) if value else ""


def mask_phone(value: str) -> str:
    value = str(value or "")
    return value[:3] + "****" + value[-4:] if len(value) >= 11 else "*" * len(value)


def build_uscc(division_code: str, org_body: str, registry: str = "9", category: str = "1") -> str:
    """Compose a valid 统一社会信用代码 from its parts (used by the demo generator and tests)."""
    org = org_body + _org_code_check(org_body)
    first17 = registry + category + division_code + org
    return first17 + uscc_check_char(first17)
