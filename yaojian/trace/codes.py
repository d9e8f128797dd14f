"""Trace codes 追溯码: China's 20-digit drug trace code, GS1 keys/element strings and device UDI.

Every refusal raises :class:`CodeError` whose ``reason`` is a precise Chinese sentence and whose ``kind``
is a stable machine key (for counting refusals in ingest reports).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import quote, unquote, urlsplit

GS = "\x1d"  # FNC1 as a scanner transmits it inside a GS1 DataMatrix (ASCII 29)
DL_ROOT = "https://id.gs1.org"


class CodeError(ValueError):
    """An invalid code 无效码; ``kind`` is a machine key, ``reason`` the Chinese explanation."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


# ---------------------------------------------------------------- GS1 check digit 校验位


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of ``body`` (all digits before the check digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def _digits(value: str, what: str) -> str:
    if not value.isascii() or not value.isdigit():
        raise CodeError("not_digits", f"{what}只能由数字组成：{value!r}")
    return value


def validate_gtin(gtin: str) -> str:
    """Return the GTIN-14 (商品条码) form of a GTIN-8/12/13/14 after checking length and check digit."""
    _digits(gtin, "GTIN")
    if len(gtin) not in (8, 12, 13, 14):
        raise CodeError("wrong_length", f"GTIN 长度应为 8、12、13 或 14 位，实际 {len(gtin)} 位")
    gtin14 = gtin.zfill(14)
    expected = gs1_check_digit(gtin14[:-1])
    if int(gtin14[-1]) != expected:
        raise CodeError("bad_check_digit", f"GS1 校验位错误：{gtin} 的校验位应为 {expected}，实际为 {gtin14[-1]}")
    return gtin14


# ---------------------------------------------------------------- 药品追溯码 (NMPAB/T 1002-2019)

DRUG_CODE_LENGTH = 20
PRODUCT_ID_LENGTH = 7

# A registry hook: a set of known 药品标识码, a mapping 药品标识码 → packaging level 包装级别,
# or a callable returning the level (or True when the level is not known) and None when unknown.
ProductRegistry = Callable[[str], object] | Mapping[str, object] | Container[str]


@dataclass(frozen=True)
class DrugTraceCode:
    """A 20-digit 药品追溯码: 药品标识码 (7) + 生产标识码/序列号 and check part (13)."""

    code: str
    product_id: str  # 药品标识码, unique per packaging level
    serial_part: str  # 生产标识码 + 校验位; no public check algorithm, kept opaque
    packaging_level: object = None  # as the registry reports it, when it does


def _registry_level(registry: ProductRegistry, product_id: str) -> tuple[bool, object]:
    if callable(registry):
        level = registry(product_id)
        return level is not None and level is not False, (None if level is True else level)
    if isinstance(registry, Mapping):
        return product_id in registry, registry.get(product_id)
    return product_id in registry, None


def parse_drug_trace_code(
    code: str, registry: ProductRegistry | None = None, expected_level: object = None
) -> DrugTraceCode:
    """Validate a 药品追溯码 by structure, then (when given) against the product registry.

    No check-digit algorithm is published for this code, so none is invented: the 药品标识码 lookup is the
    real check. ``expected_level`` is the packaging level 包装级别 the scan claims (e.g. the unit of sale);
    a registry reporting another level for this 药品标识码 is a packaging-level mismatch.
    """
    code = code.strip()
    if len(code) != DRUG_CODE_LENGTH:
        raise CodeError("wrong_length", f"药品追溯码应为 {DRUG_CODE_LENGTH} 位，实际 {len(code)} 位")
    _digits(code, "药品追溯码")
    if not code.startswith("8"):
        raise CodeError("bad_prefix", "药品追溯码应以 8 开头")
    product_id = code[:PRODUCT_ID_LENGTH]
    level = None
    if registry is not None:
        known, level = _registry_level(registry, product_id)
        if not known:
            raise CodeError("unknown_product", f"药品标识码 {product_id} 未在产品库中登记")
        if expected_level is not None and level is not None and level != expected_level:
            raise CodeError(
                "level_mismatch",
                f"包装级别不符：药品标识码 {product_id} 登记为 {level} 级包装，扫码所称为 {expected_level} 级",
            )
    return DrugTraceCode(code, product_id, code[PRODUCT_ID_LENGTH:], level)


# ---------------------------------------------------------------- GS1 application identifiers 应用标识符

# AI → (fixed length or None for variable, max length, 中文名). Only the AIs a drug/device pack carries.
AIS: dict[str, tuple[int | None, int, str]] = {
    "00": (18, 18, "SSCC 系列货运包装箱代码"),
    "01": (14, 14, "GTIN 商品条码"),
    "10": (None, 20, "批号"),
    "11": (6, 6, "生产日期"),
    "17": (6, 6, "有效期"),
    "21": (None, 20, "序列号"),
}
DATE_AIS = {"11", "17"}
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$")  # GS1 AI encodable character set 82


def parse_gs1_date(value: str, today: dt.date | None = None) -> dt.date:
    """YYMMDD with DD=00 meaning the last day of the month; century by the GS1 sliding window (−49/+50 years)."""
    if len(value) != 6 or not value.isdigit():
        raise CodeError("bad_date", f"日期应为 6 位数字 YYMMDD：{value!r}")
    yy, mm, dd = int(value[:2]), int(value[2:4]), int(value[4:])
    this_year = (today or dt.date.today()).year
    year = this_year - this_year % 100 + yy
    if year - this_year > 50:
        year -= 100
    elif this_year - year >= 50:
        year += 100
    if not 1 <= mm <= 12:
        raise CodeError("bad_date", f"日期 {value} 的月份 {mm:02d} 无效")
    last = calendar.monthrange(year, mm)[1]
    if dd == 0:
        dd = last
    if dd > last:
        raise CodeError("bad_date", f"日期 {value} 的日 {dd:02d} 超出 {year} 年 {mm} 月的天数")
    return dt.date(year, mm, dd)


@dataclass
class ElementString:
    """A parsed GS1 element string: AI → value, in scan order; dates parsed."""

    values: dict[str, str] = field(default_factory=dict)
    dates: dict[str, dt.date] = field(default_factory=dict)

    @property
    def gtin(self) -> str | None:
        return self.values.get("01")

    @property
    def serial(self) -> str | None:
        return self.values.get("21")

    @property
    def batch(self) -> str | None:
        return self.values.get("10")

    @property
    def expiry(self) -> dt.date | None:
        return self.dates.get("17")


def _strip_symbology(raw: str) -> str:
    # Scanners prefix the AIM symbology identifier (]d2 DataMatrix, ]C1 GS1-128, ]Q3 QR) and may lead with FNC1.
    for prefix in ("]d2", "]C1", "]Q3", "]e0"):
        if raw.startswith(prefix):
            raw = raw[len(prefix) :]
            break
    return raw.lstrip(GS)


def _split_bracketed(raw: str) -> list[tuple[str, str]]:
    pairs = re.findall(r"\(([0-9]{2,4})\)([^(]*)", raw)
    if not pairs or "".join(f"({a}){v}" for a, v in pairs) != raw:
        raise CodeError("malformed", f"括号形式的 GS1 元素串格式错误：{raw!r}")
    return pairs


def _split_raw(raw: str) -> list[tuple[str, str]]:
    pairs, pos = [], 0
    while pos < len(raw):
        ai = raw[pos : pos + 2]
        if ai not in AIS:
            raise CodeError(
                "unknown_ai", f"未知或不支持的应用标识符 AI({raw[pos : pos + 4]}…)，位于第 {pos + 1} 个字符"
            )
        fixed, maxlen, name = AIS[ai]
        pos += 2
        if fixed:
            value = raw[pos : pos + fixed]
            if len(value) != fixed:
                raise CodeError("wrong_length", f"AI({ai}) {name} 应为 {fixed} 位，实际 {len(value)} 位")
            pos += fixed
            if raw.startswith(GS, pos):  # some printers put FNC1 after fixed-length fields too; harmless
                pos += 1
        else:
            end = raw.find(GS, pos)
            end = len(raw) if end < 0 else end
            value = raw[pos:end]
            pos = end + 1
        pairs.append((ai, value))
    return pairs


def parse_element_string(raw: str, today: dt.date | None = None) -> ElementString:
    """Parse what a scanner sends (``]d2`` + AIs separated by FNC1/GS) or the bracketed HRI form ``(01)…(21)…``."""
    raw = _strip_symbology(raw.strip("\r\n"))
    if not raw:
        raise CodeError("empty", "码内容为空")
    pairs = _split_bracketed(raw) if raw.startswith("(") else _split_raw(raw)
    result = ElementString()
    for ai, value in pairs:
        if ai not in AIS:
            raise CodeError("unknown_ai", f"未知或不支持的应用标识符 AI({ai})")
        fixed, maxlen, name = AIS[ai]
        if ai in result.values:
            raise CodeError("duplicate_ai", f"应用标识符 AI({ai}) 重复出现")
        if fixed and len(value) != fixed or not value or len(value) > maxlen:
            raise CodeError("wrong_length", f"AI({ai}) {name} 长度错误：{len(value)} 位")
        if not _CSET82.match(value):
            raise CodeError("bad_character", f"AI({ai}) {name} 含有 GS1 不允许的字符：{value!r}")
        if ai in ("00", "01"):
            value = validate_gtin(value) if ai == "01" else _validate_sscc(value)
        if ai in DATE_AIS:
            result.dates[ai] = parse_gs1_date(value, today)
        result.values[ai] = value
    return result


def build_element_string(values: Mapping[str, str], scanner: bool = False) -> str:
    """Element string from AI values: bracketed HRI by default, or as a scanner sends it (``]d2`` + GS)."""
    if not scanner:
        return "".join(f"({ai}){v}" for ai, v in values.items())
    parts, out = list(values.items()), "]d2"
    for i, (ai, value) in enumerate(parts):
        out += ai + value
        if AIS[ai][0] is None and i < len(parts) - 1:
            out += GS  # only variable-length fields need a terminator
    return out


def _validate_sscc(value: str) -> str:
    _digits(value, "SSCC")
    if len(value) != 18:
        raise CodeError("wrong_length", f"SSCC 应为 18 位，实际 {len(value)} 位")
    if int(value[-1]) != gs1_check_digit(value[:-1]):
        raise CodeError("bad_check_digit", f"GS1 校验位错误：SSCC {value} 的校验位应为 {gs1_check_digit(value[:-1])}")
    return value


# ---------------------------------------------------------------- device UDI 医疗器械唯一标识

UDI_PI_AIS = ("10", "11", "17", "21")


@dataclass(frozen=True)
class Udi:
    """UDI = UDI-DI 产品标识 (AI 01) + UDI-PI 生产标识 (AI 10/11/17/21)."""

    di: str
    pi: dict
    expiry: dt.date | None = None


def parse_udi(raw: str, today: dt.date | None = None) -> Udi:
    es = parse_element_string(raw, today)
    if not es.gtin:
        raise CodeError("missing_di", "UDI 缺少产品标识 UDI-DI（AI 01）")
    extra = set(es.values) - {"01", *UDI_PI_AIS}
    if extra:
        raise CodeError("unknown_ai", f"UDI 中不应出现应用标识符 {sorted(extra)}")
    return Udi(es.gtin, {ai: es.values[ai] for ai in UDI_PI_AIS if ai in es.values}, es.expiry)


# ---------------------------------------------------------------- SGTIN URN ↔ Digital Link ↔ element string


@dataclass(frozen=True)
class Sgtin:
    """Serialised GTIN 系列化商品条码: GTIN-14 + serial (AI 21); company prefix length kept for the URN form."""

    gtin: str
    serial: str
    company_prefix_length: int | None = None

    def to_urn(self, company_prefix_length: int | None = None) -> str:
        cpl = company_prefix_length or self.company_prefix_length
        if not cpl or not 6 <= cpl <= 12:
            raise CodeError("no_company_prefix", "转换为 SGTIN URN 需要 6–12 位的厂商识别代码长度")
        cp, item = self.gtin[1 : 1 + cpl], self.gtin[0] + self.gtin[1 + cpl : 13]
        return f"urn:epc:id:sgtin:{cp}.{item}.{quote(self.serial, safe='')}"

    def to_digital_link(self, root: str = DL_ROOT) -> str:
        return f"{root}/01/{self.gtin}/21/{quote(self.serial, safe='')}"

    def to_element_string(self, scanner: bool = False) -> str:
        return build_element_string({"01": self.gtin, "21": self.serial}, scanner)


def _epc_fields(urn: str, scheme: str, count: int) -> list[str]:
    prefix = f"urn:epc:id:{scheme}:"
    if not urn.startswith(prefix):
        raise CodeError("malformed", f"不是 {scheme.upper()} URN：{urn!r}")
    parts = urn[len(prefix) :].split(".")
    if len(parts) != count:
        raise CodeError("malformed", f"{scheme.upper()} URN 应有 {count} 段，实际 {len(parts)} 段")
    return parts


@cache  # the same company prefix and item reference recur on every unit of a product
def _gtin_from_prefix(cp: str, item: str, what: str) -> str:
    _digits(cp + item, what)
    if not 6 <= len(cp) <= 12 or len(cp) + len(item) != 13:
        raise CodeError("wrong_length", f"{what} 厂商识别代码与项目代码合计应为 13 位（厂商识别代码 6–12 位）")
    body = item[0] + cp + item[1:]
    return body + str(gs1_check_digit(body))


def parse_sgtin_urn(urn: str) -> Sgtin:
    cp, item, serial = _epc_fields(urn, "sgtin", 3)
    return Sgtin(_gtin_from_prefix(cp, item, "SGTIN"), unquote(serial), len(cp))


def parse_digital_link(uri: str) -> Sgtin:
    """A GS1 Digital Link for a serialised item: any domain, ``/01/{gtin}[/10/{lot}]/21/{serial}``, query ignored."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        raise CodeError("malformed", f"GS1 数字链接应为 http(s) 地址：{uri!r}")
    segments = parts.path.strip("/").split("/")
    try:
        start = segments.index("01")
    except ValueError:
        raise CodeError("malformed", "GS1 数字链接缺少 /01/ 主标识") from None
    keys = dict(zip(segments[start::2], map(unquote, segments[start + 1 :: 2]), strict=False))
    unknown = set(keys) - {"01", "10", "21", "22"}
    if unknown:
        raise CodeError("unknown_ai", f"GS1 数字链接中出现不支持的应用标识符 {sorted(unknown)}")
    if "21" not in keys:
        raise CodeError("malformed", "GS1 数字链接缺少 /21/ 序列号，不是单品标识")
    return Sgtin(validate_gtin(keys["01"]), keys["21"])


def parse_sgtin(value: str, today: dt.date | None = None) -> Sgtin:
    """An SGTIN in any of its three written forms: URN, Digital Link or element string."""
    value = value.strip()
    if value.startswith("urn:"):
        return parse_sgtin_urn(value)
    if value.startswith(("http://", "https://")):
        return parse_digital_link(value)
    es = parse_element_string(value, today)
    if not es.gtin or not es.serial:
        raise CodeError("malformed", "元素串缺少 AI(01) 或 AI(21)，不是单品标识")
    return Sgtin(es.gtin, es.serial)


# ---------------------------------------------------------------- EPC URI → canonical Digital Link (for hashing)


@cache
def _gln(cp: str, ref: str) -> str:
    _digits(cp + ref, "GLN")
    if len(cp) + len(ref) != 12:
        raise CodeError("wrong_length", "GLN 厂商识别代码与位置参考代码合计应为 12 位")
    return cp + ref + str(gs1_check_digit(cp + ref))


def _serial_path(serial: str) -> str:
    return quote(unquote(serial), safe="")


def _dl_sgtin(p):
    return f"/01/{_gtin_from_prefix(p[0], p[1], 'SGTIN')}/21/{_serial_path(p[2])}"


def _dl_sgln(p):
    gln = _gln(p[0], p[1])
    return f"/414/{gln}" + ("" if p[2] == "0" else f"/254/{_serial_path(p[2])}")


def _dl_sscc(p):
    body = p[1][0] + p[0] + p[1][1:]
    return f"/00/{body}{gs1_check_digit(body)}"


def _dl_grai(p):
    body = "0" + p[0] + p[1]
    return f"/8003/{body}{gs1_check_digit(body)}{_serial_path(p[2])}"


def _dl_gdti(p):
    body = p[0] + p[1]
    return f"/253/{body}{gs1_check_digit(body)}{_serial_path(p[2])}"


def _dl_gsrn(p):
    body = p[0] + p[1]
    return f"/8018/{body}{gs1_check_digit(body)}"


# scheme → (number of dot-separated fields, converter to the Digital Link path)
_EPC_TO_DL = {
    "sgtin": (3, _dl_sgtin),
    "sgln": (3, _dl_sgln),
    "pgln": (2, lambda p: f"/417/{_gln(p[0], p[1])}"),
    "sscc": (2, _dl_sscc),
    "grai": (3, _dl_grai),
    "giai": (2, lambda p: f"/8004/{p[0]}{_serial_path(p[1])}"),
    "gdti": (3, _dl_gdti),
    "gsrn": (2, _dl_gsrn),
}


def epc_to_digital_link(value: str) -> str | None:
    """Canonical GS1 Digital Link of an EPC URI / EPC class URI / EPC pattern, or None when not convertible."""
    m = re.match(r"^urn:epc:(id|class|idpat):([a-z0-9]+):(.+)$", value)
    if not m:
        return None
    kind, scheme, rest = m.groups()
    parts = rest.split(".")
    try:
        if kind == "class" and scheme == "lgtin" and len(parts) == 3:
            return f"{DL_ROOT}/01/{_gtin_from_prefix(parts[0], parts[1], 'LGTIN')}/10/{_serial_path(parts[2])}"
        if kind == "idpat" and scheme == "sgtin" and len(parts) == 3 and parts[2] == "*":
            return f"{DL_ROOT}/01/{_gtin_from_prefix(parts[0], parts[1], 'SGTIN')}"
        if kind == "id" and scheme in _EPC_TO_DL and len(parts) == _EPC_TO_DL[scheme][0]:
            return DL_ROOT + _EPC_TO_DL[scheme][1](parts)
    except (ValueError, IndexError):  # malformed key parts (letters, empty fields): not convertible
        return None
    return None


_DL_KEYS_FINEST = {"00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010", "8017", "8018"}
_DL_QUALIFIERS = {"01": {"21", "10", "235"}, "414": {"254"}, "8006": {"21", "10"}, "8010": {"8011"}}


def canonical_digital_link(uri: str) -> str | None:
    """Constrained canonical form of a GS1 Digital Link: id.gs1.org, no query, only the finest key qualifier."""
    parts = urlsplit(uri)
    segments = [s for s in parts.path.split("/") if s]
    for i, seg in enumerate(segments):
        if seg in _DL_KEYS_FINEST and i + 1 < len(segments):
            path = f"/{seg}/{segments[i + 1]}"
            quals = dict(zip(segments[i + 2 :: 2], segments[i + 3 :: 2], strict=False))
            allowed = _DL_QUALIFIERS.get(seg, set())
            # Serial beats lot: only the most fine-granular qualifier is kept.
            for q in ("21", "8011", "254", "235", "10"):
                if q in quals and q in allowed:
                    path += f"/{q}/{quals[q]}"
                    break
            return DL_ROOT + path
    return None


# ---------------------------------------------------------------- one URI per code, for events

DRUG_CODE_URN = "urn:yaojian:tracecode:"  # platform namespace: 药品追溯码 has no registered URI form


def code_uri(value: str, registry: ProductRegistry | None = None, today: dt.date | None = None) -> str:
    """The URI an event carries for a scanned code: a 药品追溯码 as ``urn:yaojian:tracecode:…``, a GS1 serialised
    item as its canonical Digital Link. Raises :class:`CodeError` for anything else."""
    value = value.strip()
    if re.match(r"^\][A-Za-z]\d\d{20}$", value):  # a Code 128 / QR scan of a 追溯码 with its AIM prefix (]C0 …)
        value = value[3:]
    if value.isdigit() and len(value) == DRUG_CODE_LENGTH and not value.startswith(("00", "01")):
        return DRUG_CODE_URN + parse_drug_trace_code(value, registry).code
    if value.startswith(DRUG_CODE_URN):
        return DRUG_CODE_URN + parse_drug_trace_code(value[len(DRUG_CODE_URN) :], registry).code
    if value.isdigit() and len(value) != DRUG_CODE_LENGTH and value.startswith("8"):
        raise CodeError("wrong_length", f"药品追溯码应为 {DRUG_CODE_LENGTH} 位，实际 {len(value)} 位")
    if value.startswith("urn:epc:id:sscc:"):  # a logistic unit (case/pallet) as parent of an aggregation
        link = epc_to_digital_link(value)
        if link is None:
            raise CodeError("malformed", f"SSCC URN 格式错误：{value!r}")
        return link
    return parse_sgtin(value, today).to_digital_link()
