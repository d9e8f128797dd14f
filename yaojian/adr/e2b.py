"""ICH E2B(R3) XML 电子传输: import, export and acknowledgement of case safety reports.

Messages follow the ICH E2B(R3) implementation guide (HL7 v3): a batch ``MCCI_IN200100UV01`` holds
one ``PORR_IN049016UV`` message per ICSR; the receiver answers with a batch acknowledgement
``MCCI_IN200101UV01`` (ACK.A.4 batch code AA/AE/AR, ACK.B.r.6 per-ICSR code CA/CR).

Parsing is defensive: the file size is bounded, DTDs (hence external entities and entity
expansion bombs) are refused by defusedxml, the nesting depth is bounded, and nothing is fetched.
A file that cannot be read — malformed XML, a hostile construct, a required element missing —
raises ``E2BError`` naming the element (an XPath-like location) and the reason, and ``import_batch``
writes nothing: the whole batch is one transaction.

Regional elements (FDA.x, other receivers' codes) are skipped. Fields of this platform that E2B has
no place for (report source 报告来源, sentinel sale date, enterprise links …) travel in
``observationEvent`` components under ``LOCAL_OID`` so that an export imports back to the same case;
other systems ignore them as they would any regional element. Patient name and contact (personal
data, encrypted at rest) are never exported; the patient initials (D.1) are.
"""

import datetime
import hashlib
import io
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from yaojian.core import audit
from yaojian.core.choices import AuditAction
from yaojian.registry.models import Enterprise

from . import services
from .models import (
    ActionTaken,
    AdrReport,
    AgeGroup,
    Causality,
    DrugRole,
    Outcome,
    PatientSex,
    ReporterQualification,
    ReportSource,
    ReportType,
)

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
N = f"{{{HL7}}}"
ICH = "2.16.840.1.113883.3.989.2.1"  # ICH E2B(R3) OID arc
OBS_CODES = f"{ICH}.1.19"  # ICH observation codes
MEDDRA = "2.16.840.1.113883.6.163"
# Project-local code system for fields E2B has no element for (a placeholder under China's 2.16.156 arc,
# not a registered OID).
LOCAL_OID = "2.16.156.0.1.1"
YAOJIAN_DICTIONARY_OID = "2.16.156.0.1.2"

MAX_BYTES = 20 * 1024 * 1024  # FDA's "mega" example with attachments is 2 MB
MAX_DEPTH = 64  # the deepest element in the FDA examples is at depth 30

SEX_IN = {"1": PatientSex.MALE, "2": PatientSex.FEMALE}
SEX_OUT = {PatientSex.MALE: "1", PatientSex.FEMALE: "2"}
REPORT_TYPE = {"1": ReportType.SPONTANEOUS, "2": ReportType.STUDY, "3": ReportType.OTHER, "4": ReportType.NOT_AVAILABLE}
QUALIFICATION = {
    "1": ReporterQualification.PHYSICIAN,
    "2": ReporterQualification.PHARMACIST,
    "3": ReporterQualification.OTHER_HCP,
    "4": ReporterQualification.LAWYER,
    "5": ReporterQualification.CONSUMER,
}
AGE_GROUP = {
    "0": AgeGroup.NEONATE,
    "1": AgeGroup.NEONATE,
    "2": AgeGroup.INFANT,
    "3": AgeGroup.CHILD,
    "4": AgeGroup.ADOLESCENT,
    "5": AgeGroup.ADULT,
    "6": AgeGroup.ELDERLY,
}
OUTCOME = {
    "1": Outcome.RECOVERED,
    "2": Outcome.IMPROVED,
    "3": Outcome.NOT_RECOVERED,
    "4": Outcome.SEQUELAE,
    "5": Outcome.DEATH,
    "0": Outcome.UNKNOWN,
}
DRUG_ROLE = {
    "1": DrugRole.SUSPECT,
    "2": DrugRole.CONCOMITANT,
    "3": DrugRole.INTERACTING,
    "4": DrugRole.NOT_ADMINISTERED,
}
ACTION = {
    "1": ActionTaken.WITHDRAWN,
    "2": ActionTaken.REDUCED,
    "3": ActionTaken.INCREASED,
    "4": ActionTaken.UNCHANGED,
    "0": ActionTaken.UNKNOWN,
    "9": ActionTaken.NOT_APPLICABLE,
}
# E.i.3.2 seriousness criteria: ICH observation code → reaction field.
SERIOUSNESS = {
    "34": "results_in_death",
    "21": "life_threatening",
    "33": "hospitalisation",
    "35": "disabling",
    "12": "congenital_anomaly",
    "26": "other_medically_important",
}
AGE_UNIT_YEARS = {"a": 1, "dec": 10, "mo": 1 / 12, "wk": 1 / 52, "d": 1 / 365, "h": 1 / 8760, "min": 0}
# G.k.9.i.2.r.3 is free text: the six Chinese levels (by code or label) and the WHO-UMC English terms.
CAUSALITY_TEXT = {
    **{c.value: c.value for c in Causality},
    **{c.label: c.value for c in Causality},
    "probable/likely": Causality.PROBABLE,
    "conditional/unclassified": Causality.PENDING,
    "unassessable/unclassifiable": Causality.UNASSESSABLE,
}
REPORT_ASSESSOR = "REGULATOR"  # G.k.9.i.2.r.2 source of the case-level assessment 关联性评价
LOCAL_FIELDS = ("source", "sold_on", "is_new", "onset_on", "outcome", "enterprise", "reporting_enterprise")


class E2BError(ValueError):
    """A file that cannot be imported: ``location`` is an XPath-like path, ``reason`` says why."""

    def __init__(self, location: str, reason: str):
        super().__init__(f"{location}: {reason}")
        self.location, self.reason = location, reason


# --- safe parsing -------------------------------------------------------------------------------


def parse_xml(data: bytes) -> ET.Element:
    """Parse with bounds: size, no DTD/entities (defusedxml), nesting depth; errors name the element."""
    if len(data) > MAX_BYTES:
        raise E2BError("/", f"文件过大（{len(data)} 字节，上限 {MAX_BYTES} 字节）")
    stack: list[str] = []
    root = None
    try:
        for event, element in iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                stack.append(_local(element.tag))
                if len(stack) > MAX_DEPTH:
                    raise E2BError("/" + "/".join(stack), f"嵌套层级超过 {MAX_DEPTH} 层")
                root = element if root is None else root
            else:
                stack.pop()
    except DefusedXmlException as exc:
        raise E2BError("/" + "/".join(stack), f"禁止的XML构造（DTD/实体/外部引用）：{type(exc).__name__}") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise E2BError("/" + "/".join(stack), f"XML格式错误（第 {line} 行第 {column} 列）") from None
    if root is None:
        raise E2BError("/", "文件为空")
    return root


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class Node:
    """An element with its XPath-like location, so that every complaint names where it is."""

    def __init__(self, element: ET.Element, path: str):
        self.el, self.path = element, path

    def children(self, name: str) -> list["Node"]:
        found = self.el.findall(N + name)
        return [
            Node(e, f"{self.path}/{name}[{i}]" if len(found) > 1 else f"{self.path}/{name}")
            for i, e in enumerate(found, 1)
        ]

    def find(self, *names: str) -> "Node | None":
        node = self
        for name in names:
            found = node.children(name)
            if not found:
                return None
            node = found[0]
        return node

    def require(self, *names: str, what: str) -> "Node":
        node = self
        for name in names:
            found = node.children(name)
            if not found:
                raise E2BError(f"{node.path}/{name}", f"缺少必填元素（{what}）")
            node = found[0]
        return node

    def attr(self, name: str, default: str = "") -> str:
        return (self.el.get(name) or default).strip()

    def text(self) -> str:
        return (self.el.text or "").strip()

    def code(self) -> str:
        code = self.find("code")
        return code.attr("code") if code is not None else ""

    def code_system(self) -> str:
        code = self.find("code")
        return code.attr("codeSystem") if code is not None else ""


def _value_text(node: Node | None) -> str:
    """Text of an ED/ST ``value``, or its ``originalText``."""
    if node is None:
        return ""
    value = node.find("value")
    if value is None:
        return ""
    original = value.find("originalText")
    return original.text() if original is not None else value.text()


def _date(node: Node | None, attr: str = "value") -> datetime.date | None:
    """HL7 TS → date; partial dates (year or month only) carry no day and are left empty."""
    if node is None or node.attr("nullFlavor"):
        return None
    raw = node.attr(attr)
    if not raw:
        return None
    if len(raw) < 8 or not raw[:8].isdigit():
        if raw[:4].isdigit():
            return None
        raise E2BError(f"{node.path}/@{attr}", f"日期格式错误：{raw!r}")
    try:
        return datetime.date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
    except ValueError:
        raise E2BError(f"{node.path}/@{attr}", f"日期无效：{raw!r}") from None


def _decimal(node: Node, attr: str = "value") -> Decimal | None:
    raw = node.attr(attr)
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise E2BError(f"{node.path}/@{attr}", f"数值格式错误：{raw!r}") from None


def _observations(node: Node, container: str = "subjectOf2") -> list[Node]:
    return [obs for rel in node.children(container) if (obs := rel.find("observation")) is not None]


# --- reading one ICSR ---------------------------------------------------------------------------


@dataclass
class ParsedCase:
    message_id: str
    fields: dict
    drugs: list[dict]
    reactions: list[dict]
    local: dict = field(default_factory=dict)  # LOCAL_OID values: source, enterprise credit codes …
    nullified: bool = False


def read_case(message: Node) -> ParsedCase:
    message_id = message.require("id", what="N.2.r.1 消息编号").attr("extension")
    control = message.require("controlActProcess", what="控制过程")
    event = control.require("subject", "investigationEvent", what="病例（investigationEvent）")
    fields: dict = {}
    for ident in event.children("id"):
        if ident.attr("root") == f"{ICH}.3.1":
            fields["report_number"] = ident.attr("extension")
        elif ident.attr("root") == f"{ICH}.3.2":
            fields["worldwide_case_id"] = ident.attr("extension")
    if not fields.get("report_number"):
        raise E2BError(f"{event.path}/id[@root='{ICH}.3.1']", "缺少必填元素（C.1.1 报告编码）")
    reported = _date(control.require("effectiveTime", what="C.1.2 报告创建日期"))
    if reported is None:
        raise E2BError(f"{control.path}/effectiveTime/@value", "缺少必填值（C.1.2 报告创建日期）")
    fields["reported_on"] = reported
    fields["description"] = event.find("text").text() if event.find("text") is not None else ""
    fields["received_on"] = _date(event.find("effectiveTime", "low"))
    fields["latest_received_on"] = _date(event.find("availabilityTime"))
    nullified = False
    for rel in event.children("subjectOf2"):
        characteristic = rel.find("investigationCharacteristic")
        if characteristic is None or characteristic.code_system() != f"{ICH}.1.23":
            continue
        value = characteristic.find("value")
        code = value.attr("code") if value is not None else ""
        if characteristic.code() == "1" and code in REPORT_TYPE:
            fields["report_type"] = REPORT_TYPE[code]
        elif characteristic.code() == "3":  # C.1.11.1: 1 nullification, 2 amendment
            nullified = code == "1"
    fields.update(_reporter(event))
    assessment = event.require("component", "adverseEventAssessment", what="不良事件评估（E/G 部分）")
    role = assessment.require("subject1", "primaryRole", what="患者（D 部分）")
    fields.update(_patient(role))
    reactions, reaction_ids = _reactions(role)
    if not reactions:
        raise E2BError(f"{role.path}/subjectOf2/observation", "缺少必填元素（E.i 不良反应/事件，至少一条）")
    drugs, drug_ids = _drugs(role)
    if not drugs:
        raise E2BError(f"{role.path}/subjectOf2/organizer", "缺少必填元素（G.k 药品信息，至少一种）")
    fields["causality"] = _assessments(assessment, drugs, drug_ids) or Causality.PENDING
    local = _local_values(event)
    return ParsedCase(message_id, fields, drugs, reactions, local, nullified)


def _reporter(event: Node) -> dict:
    values = {}
    for rel in event.children("outboundRelationship"):
        related = rel.find("relatedInvestigation")
        if related is None or related.code() != "2":  # 2 = sourceReport (C.2.r primary source)
            continue
        entity = related.find("subjectOf2", "controlActEvent", "author", "assignedEntity")
        if entity is None:
            continue
        qualification = entity.find("assignedPerson", "asQualifiedEntity", "code")
        if qualification is not None and qualification.attr("code") in QUALIFICATION:
            values["reporter_qualification"] = QUALIFICATION[qualification.attr("code")]
        country = entity.find("assignedPerson", "asLocatedEntity", "location", "code")
        if country is not None and len(country.attr("code")) == 2:
            values["reporter_country"] = country.attr("code").upper()
        organisation = entity.find("representedOrganization", "name")
        if organisation is not None:
            values["reporter_unit"] = organisation.text()[:200]
        break  # the first primary source is the one used for regulatory purposes
    if "reporter_unit" not in values:  # C.3.3 sender organisation
        sender = event.find("subjectOf1", "controlActEvent", "author", "assignedEntity", "representedOrganization")
        names = [n.text for n in sender.el.iter(N + "name") if n.text] if sender is not None else []
        values["reporter_unit"] = names[-1].strip()[:200] if names else ""
    return values


def _patient(role: Node) -> dict:
    values = {}
    player = role.find("player1")
    if player is not None:
        name = player.find("name")
        if name is not None and not name.attr("nullFlavor"):
            values["patient_initials"] = name.text()[:20]
        sex = player.find("administrativeGenderCode")
        values["patient_sex"] = SEX_IN.get(sex.attr("code"), PatientSex.UNKNOWN) if sex is not None else "U"
    for obs in _observations(role):
        if obs.code_system() != OBS_CODES:
            continue  # FDA race/ethnicity and other regional observations
        value = obs.find("value")
        if value is None or value.attr("nullFlavor"):
            continue
        if obs.code() == "3":  # D.2.2 age at onset
            number, unit = _decimal(value), value.attr("unit", "a")
            if number is not None and unit in AGE_UNIT_YEARS:
                values["patient_age"] = int(number * Decimal(str(AGE_UNIT_YEARS[unit])))
        elif obs.code() == "4" and value.attr("code") in AGE_GROUP:
            values["patient_age_group"] = AGE_GROUP[value.attr("code")]
        elif obs.code() == "7":  # D.3 body weight (kg)
            values["patient_weight_kg"] = _decimal(value)
    return values


def _reactions(role: Node) -> tuple[list[dict], dict[str, int]]:
    reactions, ids = [], {}
    for obs in _observations(role):
        if obs.code() != "29" or obs.code_system() != OBS_CODES:
            continue
        value = obs.find("value")
        reaction: dict = {"outcome": Outcome.UNKNOWN}
        term = ""
        if value is not None:
            if value.attr("code"):
                reaction["term_code"] = value.attr("code")
            original = value.find("originalText")
            term = original.text() if original is not None else ""
        for detail in _observations(obs, "outboundRelationship2"):
            code = detail.code()
            detail_value = detail.find("value")
            if code == "30" and not term:  # E.i.1.2 reaction as reported, for translation
                term = _value_text(detail)
            elif code in SERIOUSNESS and detail_value is not None:
                reaction[SERIOUSNESS[code]] = detail_value.attr("value") == "true"
            elif code == "27" and detail_value is not None:
                reaction["outcome"] = OUTCOME.get(detail_value.attr("code"), Outcome.UNKNOWN)
        if not term and reaction.get("term_code"):
            term = f"MedDRA {reaction['term_code']}"
        if not term:
            raise E2BError(f"{obs.path}/value", "缺少不良反应名称（E.i.1.1a 报告术语或 E.i.2.1b 编码）")
        reaction["reported_term"] = term[:250]
        reaction["onset_on"] = _date(obs.find("effectiveTime", "low"))
        reaction["end_on"] = _date(obs.find("effectiveTime", "high"))
        ident = obs.find("id")
        if ident is not None and ident.attr("root"):
            ids.setdefault(ident.attr("root"), len(reactions))
        reactions.append(reaction)
    return reactions, ids


def _drugs(role: Node) -> tuple[list[dict], dict[str, int]]:
    drugs, ids = [], {}
    for rel in role.children("subjectOf2"):
        organizer = rel.find("organizer")
        if organizer is None or organizer.code() != "4":  # 4 = drugInformation (G.k)
            continue
        for component in organizer.children("component"):
            administration = component.find("substanceAdministration")
            if administration is None:
                continue
            product = administration.require("consumable", "instanceOfKind", "kindOfProduct", what="G.k.2 药品")
            name = product.require("name", what="G.k.2.2 药品名称").text()
            if not name:
                raise E2BError(f"{product.path}/name", "药品名称为空（G.k.2.2）")
            drug: dict = {"name": name[:300], "role": DrugRole.SUSPECT}
            approval = product.find("asManufacturedProduct", "subjectOf", "approval")
            if approval is not None:
                number = approval.find("id")
                drug["approval_number"] = number.attr("extension")[:64] if number is not None else ""
                holder = approval.find("holder", "role", "playingOrganization", "name")
                drug["manufacturer_name"] = holder.text()[:200] if holder is not None else ""
            drug.update(_dosage(administration))
            for inbound in administration.children("inboundRelationship"):
                if inbound.attr("typeCode") == "RSON" and "indication" not in drug:
                    indication = inbound.find("observation")
                    if indication is not None and indication.code() == "19":
                        drug["indication"] = _value_text(indication)[:200]
                elif inbound.attr("typeCode") == "CAUS":
                    act = inbound.find("act")
                    if act is not None and act.code() in ACTION:
                        drug["action_taken"] = ACTION[act.code()]
            ident = administration.find("id")
            if ident is not None and ident.attr("root"):
                ids[ident.attr("root")] = len(drugs)
            drugs.append(drug)
    return drugs, ids


def _dosage(administration: Node) -> dict:
    """G.k.4.r — the first dosage block: dose, route, dates, dosage text, lot number."""
    for rel in administration.children("outboundRelationship2"):
        if rel.attr("typeCode") != "COMP":
            continue
        dosage = rel.find("substanceAdministration")
        if dosage is None:
            continue
        values = {"dose_text": dosage.find("text").text()[:200] if dosage.find("text") is not None else ""}
        times = dosage.find("effectiveTime")
        if times is not None:
            spans = [times] + [c for c in times.children("comp") if c.find("low") or c.find("high")]
            for span in spans:
                values["start_on"] = values.get("start_on") or _date(span.find("low"))
                values["stop_on"] = values.get("stop_on") or _date(span.find("high"))
        route = dosage.find("routeCode")
        if route is not None:
            original = route.find("originalText")
            values["route"] = (original.text() if original is not None else route.attr("displayName"))[:60]
        dose = dosage.find("doseQuantity")
        if dose is not None:
            values["dose_value"] = _decimal(dose)
            values["dose_unit"] = dose.attr("unit")[:20]
        lot = dosage.find("consumable", "instanceOfKind", "productInstanceInstance", "lotNumberText")
        if lot is not None:
            values["batch_number"] = lot.text()[:64]
        return values
    return {}


def _assessments(assessment: Node, drugs: list[dict], drug_ids: dict[str, int]) -> str:
    """Drug roles (G.k.1) and causality (G.k.9.i.2.r); returns the case-level assessment if any."""
    case_level = ""
    for component in assessment.children("component"):
        causality = component.find("causalityAssessment")
        if causality is None:
            continue
        reference = causality.find("subject2", "productUseReference", "id")
        index = drug_ids.get(reference.attr("root")) if reference is not None else None
        if index is None:
            continue
        value = causality.find("value")
        if causality.code() == "20" and value is not None and value.attr("code") in DRUG_ROLE:
            drugs[index]["role"] = DRUG_ROLE[value.attr("code")]
        elif causality.code() == "39" and value is not None:
            level = CAUSALITY_TEXT.get(value.text()) or CAUSALITY_TEXT.get(value.text().lower())
            if not level:
                continue  # free text such as "Suspected" has no six-level equivalent
            source = causality.find("author", "assignedEntity", "code", "originalText")
            if source is not None and source.text() == REPORT_ASSESSOR:
                case_level = case_level or level
            elif not drugs[index].get("causality"):
                drugs[index]["causality"] = level
    return case_level


def _local_values(event: Node) -> dict:
    values = {}
    for component in event.children("component"):
        observation = component.find("observationEvent")
        if observation is None or observation.code_system() != LOCAL_OID:
            continue
        value = observation.find("value")
        if value is not None:
            values[observation.code()] = value
    return values


# --- writing cases from a batch -----------------------------------------------------------------


@dataclass
class IcsrResult:
    message_id: str
    report_number: str
    code: str  # ACK.B.r.6: CA loaded, CR rejected
    text: str
    report: AdrReport | None = None


@dataclass
class BatchResult:
    batch_id: str
    sender: str
    code: str  # ACK.A.4: AA all loaded, AE some ICSRs need action, AR batch rejected
    text: str
    icsrs: list[IcsrResult] = field(default_factory=list)
    error: E2BError | None = None
    received_at: datetime.datetime = field(default_factory=timezone.now)

    @property
    def ack_xml(self) -> bytes:
        return build_ack(self)


def _resolve_local(case: ParsedCase) -> None:
    """Apply this platform's own elements (ignored by other systems) to the parsed fields."""
    local = case.local
    if "source" in local and local["source"].attr("code") in ReportSource.values:
        case.fields["source"] = local["source"].attr("code")
    if "sold_on" in local:
        case.fields["sold_on"] = _date(local["sold_on"])
    if "onset_on" in local:
        case.fields["onset_on"] = _date(local["onset_on"])
    if "is_new" in local:
        case.fields["is_new"] = local["is_new"].attr("value") == "true"
    if "outcome" in local and local["outcome"].attr("code") in Outcome.values:
        case.fields["outcome"] = local["outcome"].attr("code")
    codes = {name: local[name].attr("extension") for name in ("enterprise", "reporting_enterprise") if name in local}
    if codes:
        found = dict(Enterprise.objects.filter(credit_code__in=codes.values()).values_list("credit_code", "pk"))
        for name, code in codes.items():
            if code in found:
                case.fields[f"{name}_id"] = found[code]


def import_batch(data: bytes, *, actor, division_code: str) -> BatchResult:
    """Import one E2B batch file; all or nothing. ``division_code`` files cases that name no enterprise."""
    try:
        root = Node(parse_xml(data), "")
        root.path = "/" + _local(root.el.tag)
        if root.el.tag != N + "MCCI_IN200100UV01":
            raise E2BError(root.path, "根元素应为 MCCI_IN200100UV01（ICSR 批次，命名空间 urn:hl7-org:v3）")
        batch_id = root.require("id", what="N.1.2 批次编号").attr("extension")
        sender_node = root.find("sender", "device", "id")
        sender = sender_node.attr("extension") if sender_node is not None else ""
        messages = root.children("PORR_IN049016UV")
        if not messages:
            raise E2BError(f"{root.path}/PORR_IN049016UV", "缺少必填元素（批次中至少一份ICSR）")
        cases = [read_case(message) for message in messages]
    except E2BError as error:
        return BatchResult("", "", "AR", f"批次被拒绝，未导入任何报告：{error}", error=error)
    batch_id = batch_id or "unknown"
    try:
        with transaction.atomic():
            icsrs = [_store(case, actor=actor, division_code=division_code) for case in cases]
            audit.record(  # the batch as received: which file, and what became of each ICSR
                actor=actor,
                action=AuditAction.IMPORT,
                object_type="adr.adrreport",
                object_id=batch_id[:64],
                object_repr=f"E2B批次 {batch_id}"[:200],
                division_code=division_code,
                after={
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "icsrs": [[r.report_number, r.code, r.text] for r in icsrs],
                },
            )
    except (ValidationError, PermissionDenied, ObjectDoesNotExist, DatabaseError) as exc:  # the batch rolls back
        reason = "; ".join(getattr(exc, "messages", None) or [str(exc)])
        error = E2BError(f"/MCCI_IN200100UV01/PORR_IN049016UV ({len(cases)} 份)", f"保存失败：{reason}")
        icsrs = [IcsrResult(c.message_id, c.fields["report_number"], "CR", f"批次被拒绝：{reason}") for c in cases]
        return BatchResult(batch_id, sender, "AR", f"批次被拒绝，未导入任何报告：{reason}", icsrs, error)
    if all(r.code == "CA" for r in icsrs):
        return BatchResult(batch_id, sender, "AA", "全部报告已导入", icsrs)
    return BatchResult(batch_id, sender, "AE", "部分报告需进一步处理", icsrs)


def _store(case: ParsedCase, *, actor, division_code: str) -> IcsrResult:
    _resolve_local(case)
    number = case.fields["report_number"]
    existing = AdrReport.objects.filter(report_number=number).first()
    latest = case.fields.get("latest_received_on")
    if existing and existing.latest_received_on and latest and latest < existing.latest_received_on:
        text = f"已有更新版本（最新信息日期 {existing.latest_received_on}），本次未导入"
        return IcsrResult(case.message_id, number, "CR", text, existing)
    fields = {**case.fields, "is_nullified": case.nullified}
    if existing is None and not fields.get("enterprise_id"):
        fields["division_code"] = division_code
    report = services.save_case(actor=actor, fields=fields, drugs=case.drugs, reactions=case.reactions, report=existing)
    verb = "已作废" if case.nullified else ("已更新" if existing else "已导入")
    return IcsrResult(case.message_id, number, "CA", verb, report)


# --- export -------------------------------------------------------------------------------------


def _sub(parent: ET.Element, name: str, text: str | None = None, **attrs) -> ET.Element:
    element = ET.SubElement(
        parent,
        N + name,
        {k.replace("xsi_type", f"{{{XSI}}}type"): str(v) for k, v in attrs.items() if v not in (None, "")},
    )
    if text:
        element.text = text
    return element


def _ts(value) -> str:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y%m%d%H%M%S%z")
    return value.strftime("%Y%m%d") if value else ""


def _inverse(mapping: dict) -> dict:
    inverse = {}
    for code, value in mapping.items():
        inverse.setdefault(value, code)
    return inverse


def _observation(parent: ET.Element, relation: str, code: str, code_system: str = OBS_CODES, **rel_attrs):
    obs = _sub(_sub(parent, relation, **rel_attrs), "observation", classCode="OBS", moodCode="EVN")
    _sub(obs, "code", code=code, codeSystem=code_system)
    return obs


def _batch_root(interaction: str, batch_id: str, id_root: str, now) -> ET.Element:
    """The transmission wrapper shared by ICSR batches and their acknowledgements (id, time, interaction)."""
    ET.register_namespace("", HL7)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(N + interaction, {"ITSVersion": "XML_1.0"})
    _sub(root, "id", extension=batch_id, root=id_root)
    _sub(root, "creationTime", value=_ts(now))
    _sub(root, "responseModeCode", code="D")
    _sub(root, "interactionId", extension=interaction, root="2.16.840.1.113883.1.6")
    return root


def export_batch(reports, *, sender: str = "YAOJIAN", receiver: str = "NMPA") -> bytes:
    """An E2B(R3) batch of the given reports (drugs and reactions prefetched where possible)."""
    now = timezone.now()
    root = _batch_root("MCCI_IN200100UV01", f"YJ-{uuid.uuid4()}", f"{ICH}.3.22", now)
    _sub(root, "name", code="1", displayName="ichicsr", codeSystem=f"{ICH}.1.1")
    for report in reports:
        _export_message(root, report, now, sender, receiver)
    _device(root, "receiver", "RCV", receiver, f"{ICH}.3.14")
    _device(root, "sender", "SND", sender, f"{ICH}.3.13")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _device(parent, relation, type_code, ident, oid):
    device = _sub(_sub(parent, relation, typeCode=type_code), "device", classCode="DEV", determinerCode="INSTANCE")
    _sub(device, "id", extension=ident, root=oid)


def _export_message(root, report: AdrReport, now, sender, receiver) -> None:
    message = _sub(root, "PORR_IN049016UV")
    _sub(message, "id", extension=f"{report.report_number}-{now:%Y%m%d%H%M%S}", root=f"{ICH}.3.1")
    _sub(message, "creationTime", value=_ts(now))
    _sub(message, "interactionId", extension="PORR_IN049016UV", root="2.16.840.1.113883.1.6")
    _sub(message, "processingCode", code="P")
    _sub(message, "processingModeCode", code="T")
    _sub(message, "acceptAckCode", code="AL")
    _device(message, "receiver", "RCV", receiver, f"{ICH}.3.12")
    _device(message, "sender", "SND", sender, f"{ICH}.3.11")
    control = _sub(message, "controlActProcess", classCode="CACT", moodCode="EVN")
    _sub(control, "code", code="PORR_TE049016UV", codeSystem="2.16.840.1.113883.1.18")
    _sub(control, "effectiveTime", value=_ts(report.reported_on))
    event = _sub(_sub(control, "subject", typeCode="SUBJ"), "investigationEvent", classCode="INVSTG", moodCode="EVN")
    _sub(event, "id", extension=report.report_number, root=f"{ICH}.3.1")
    if report.worldwide_case_id:
        _sub(event, "id", extension=report.worldwide_case_id, root=f"{ICH}.3.2")
    _sub(event, "code", code="PAT_ADV_EVNT", codeSystem="2.16.840.1.113883.5.4")
    _sub(event, "text", report.description)
    _sub(event, "statusCode", code="active")
    if report.received_on:
        _sub(_sub(event, "effectiveTime"), "low", value=_ts(report.received_on))
    if report.latest_received_on:
        _sub(event, "availabilityTime", value=_ts(report.latest_received_on))
    assessment = _sub(
        _sub(event, "component", typeCode="COMP"), "adverseEventAssessment", classCode="INVSTG", moodCode="EVN"
    )
    role = _sub(_sub(assessment, "subject1", typeCode="SBJ"), "primaryRole", classCode="INVSBJ")
    _export_patient(role, report)
    reaction_ids = [_export_reaction(role, r) for r in report.reactions.all()]
    drugs = list(report.drugs.all())
    organizer = _sub(_sub(role, "subjectOf2", typeCode="SBJ"), "organizer", classCode="CATEGORY", moodCode="EVN")
    _sub(organizer, "code", code="4", codeSystem=f"{ICH}.1.20", displayName="drugInformation")
    drug_ids = [_export_drug(organizer, d) for d in drugs]
    _export_assessments(assessment, report, drugs, drug_ids, reaction_ids)
    _export_local(event, report)
    _export_reporter(event, report)
    characteristic = _sub(
        _sub(event, "subjectOf2", typeCode="SUBJ"), "investigationCharacteristic", classCode="OBS", moodCode="EVN"
    )
    _sub(characteristic, "code", code="1", codeSystem=f"{ICH}.1.23", displayName="ICH ReportType")
    _sub(
        characteristic, "value", xsi_type="CE", code=_inverse(REPORT_TYPE)[report.report_type], codeSystem=f"{ICH}.1.2"
    )
    if report.is_nullified:
        nullification = _sub(
            _sub(event, "subjectOf2", typeCode="SUBJ"), "investigationCharacteristic", classCode="OBS", moodCode="EVN"
        )
        _sub(nullification, "code", code="3", codeSystem=f"{ICH}.1.23", displayName="nullificationAmendmentCode")
        _sub(nullification, "value", xsi_type="CE", code="1", codeSystem=f"{ICH}.1.5")


def _export_patient(role, report: AdrReport) -> None:
    player = _sub(role, "player1", classCode="PSN", determinerCode="INSTANCE")
    if report.patient_initials:
        _sub(player, "name", report.patient_initials)
    else:
        _sub(player, "name", nullFlavor="MSK")
    if report.patient_sex in SEX_OUT:
        _sub(player, "administrativeGenderCode", code=SEX_OUT[report.patient_sex], codeSystem="1.0.5218")
    else:
        _sub(player, "administrativeGenderCode", nullFlavor="UNK")
    if report.patient_age is not None:
        _sub(
            _observation(role, "subjectOf2", "3", typeCode="SBJ"),
            "value",
            xsi_type="PQ",
            value=report.patient_age,
            unit="a",
        )
    if report.patient_age_group:
        code = _inverse(AGE_GROUP)[report.patient_age_group]
        if report.patient_age_group == AgeGroup.NEONATE:
            code = "1"
        _sub(
            _observation(role, "subjectOf2", "4", typeCode="SBJ"),
            "value",
            xsi_type="CE",
            code=code,
            codeSystem=f"{ICH}.1.9",
        )
    if report.patient_weight_kg is not None:
        _sub(
            _observation(role, "subjectOf2", "7", typeCode="SBJ"),
            "value",
            xsi_type="PQ",
            value=report.patient_weight_kg,
            unit="kg",
        )


def _export_reaction(role, reaction) -> str:
    ident = str(uuid.uuid4())
    obs = _sub(_sub(role, "subjectOf2", typeCode="SBJ"), "observation", classCode="OBS", moodCode="EVN")
    _sub(obs, "id", root=ident)  # the id precedes the code in the schema
    _sub(obs, "code", code="29", codeSystem=OBS_CODES, displayName="reaction")
    if reaction.onset_on or reaction.end_on:
        times = _sub(obs, "effectiveTime", xsi_type="IVL_TS")
        if reaction.onset_on:
            _sub(times, "low", value=_ts(reaction.onset_on))
        if reaction.end_on:
            _sub(times, "high", value=_ts(reaction.end_on))
    term = reaction.coded_term
    system = (MEDDRA if term.dictionary.lower() == "meddra" else YAOJIAN_DICTIONARY_OID) if term else None
    value = _sub(obs, "value", xsi_type="CE", code=term.code if term else None, codeSystem=system)
    _sub(value, "originalText", reaction.reported_term, language="zho")
    for code, name in SERIOUSNESS.items():
        detail = _observation(obs, "outboundRelationship2", code, typeCode="PERT")
        if getattr(reaction, name):
            _sub(detail, "value", xsi_type="BL", value="true")
        else:
            _sub(detail, "value", xsi_type="BL", nullFlavor="NI")
    detail = _observation(obs, "outboundRelationship2", "27", typeCode="PERT")
    _sub(detail, "value", xsi_type="CE", code=_inverse(OUTCOME)[reaction.outcome], codeSystem=f"{ICH}.1.11")
    return ident


def _export_drug(organizer, drug) -> str:
    ident = str(uuid.uuid4())
    administration = _sub(
        _sub(organizer, "component", typeCode="COMP"), "substanceAdministration", classCode="SBADM", moodCode="EVN"
    )
    _sub(administration, "id", root=ident)
    kind = _sub(
        _sub(_sub(administration, "consumable", typeCode="CSM"), "instanceOfKind", classCode="INST"),
        "kindOfProduct",
        classCode="MMAT",
        determinerCode="KIND",
    )
    _sub(kind, "name", drug.name)
    if drug.approval_number or drug.manufacturer_name:
        approval = _sub(
            _sub(_sub(kind, "asManufacturedProduct", classCode="MANU"), "subjectOf", typeCode="SBJ"),
            "approval",
            classCode="CNTRCT",
            moodCode="EVN",
        )
        if drug.approval_number:
            _sub(approval, "id", extension=drug.approval_number, root=f"{ICH}.3.4")
        if drug.manufacturer_name:
            organisation = _sub(
                _sub(_sub(approval, "holder", typeCode="HLD"), "role", classCode="HLD"),
                "playingOrganization",
                classCode="ORG",
                determinerCode="INSTANCE",
            )
            _sub(organisation, "name", drug.manufacturer_name)
    dosage = _sub(
        _sub(administration, "outboundRelationship2", typeCode="COMP"),
        "substanceAdministration",
        classCode="SBADM",
        moodCode="EVN",
    )
    if drug.dose_text:
        _sub(dosage, "text", drug.dose_text)
    if drug.start_on or drug.stop_on:
        times = _sub(dosage, "effectiveTime", xsi_type="IVL_TS")
        if drug.start_on:
            _sub(times, "low", value=_ts(drug.start_on))
        if drug.stop_on:
            _sub(times, "high", value=_ts(drug.stop_on))
    if drug.route:
        _sub(_sub(dosage, "routeCode"), "originalText", drug.route)
    if drug.dose_value is not None:
        _sub(dosage, "doseQuantity", value=drug.dose_value.normalize(), unit=drug.dose_unit or "1")
    if drug.batch_number:
        instance = _sub(
            _sub(_sub(dosage, "consumable", typeCode="CSM"), "instanceOfKind", classCode="INST"),
            "productInstanceInstance",
            classCode="MMAT",
            determinerCode="INSTANCE",
        )
        _sub(instance, "lotNumberText", drug.batch_number)
    if drug.indication:
        indication = _observation(administration, "inboundRelationship", "19", typeCode="RSON")
        _sub(_sub(indication, "value", xsi_type="CE", codeSystem=MEDDRA), "originalText", drug.indication)
    if drug.action_taken:
        act = _sub(_sub(administration, "inboundRelationship", typeCode="CAUS"), "act", classCode="ACT", moodCode="EVN")
        _sub(act, "code", code=_inverse(ACTION)[drug.action_taken], codeSystem=f"{ICH}.1.15")
    return ident


def _causality(assessment, code: str, value_attrs: dict, drug_id: str, reaction_id: str | None, source: str = ""):
    causality = _sub(
        _sub(assessment, "component", typeCode="COMP"), "causalityAssessment", classCode="OBS", moodCode="EVN"
    )
    _sub(causality, "code", code=code, codeSystem=OBS_CODES)
    text = value_attrs.pop("text", None)
    _sub(causality, "value", text, **value_attrs)
    if source:
        _sub(causality, "methodCode")
        entity = _sub(_sub(causality, "author", typeCode="AUT"), "assignedEntity", classCode="ASSIGNED")
        _sub(_sub(entity, "code"), "originalText", source)
    if reaction_id:
        reference = _sub(
            _sub(causality, "subject1", typeCode="SUBJ"), "adverseEffectReference", classCode="OBS", moodCode="EVN"
        )
        _sub(reference, "id", root=reaction_id)
    reference = _sub(
        _sub(causality, "subject2", typeCode="SUBJ"), "productUseReference", classCode="SBADM", moodCode="EVN"
    )
    _sub(reference, "id", root=drug_id)


def _export_assessments(assessment, report, drugs, drug_ids, reaction_ids) -> None:
    first_reaction = reaction_ids[0] if reaction_ids else None
    for drug, ident in zip(drugs, drug_ids, strict=True):
        code = _inverse(DRUG_ROLE)[drug.role]
        _causality(assessment, "20", {"xsi_type": "CE", "code": code, "codeSystem": f"{ICH}.1.13"}, ident, None)
        if drug.causality:
            attrs = {"xsi_type": "ST", "text": drug.causality}
            _causality(assessment, "39", attrs, ident, first_reaction, "PRIMARY SOURCE REPORTER")
    suspect = next((i for d, i in zip(drugs, drug_ids, strict=True) if d.role == DrugRole.SUSPECT), None)
    target = suspect or (drug_ids[0] if drug_ids else None)
    if target:
        attrs = {"xsi_type": "ST", "text": report.causality}
        _causality(assessment, "39", attrs, target, first_reaction, REPORT_ASSESSOR)


def _export_local(event, report: AdrReport) -> None:
    def local(name: str, **value):
        observation = _sub(
            _sub(event, "component", typeCode="COMP"), "observationEvent", classCode="OBS", moodCode="EVN"
        )
        _sub(observation, "code", code=name, codeSystem=LOCAL_OID)
        _sub(observation, "value", **value)

    local("source", xsi_type="CE", code=report.source)
    local("is_new", xsi_type="BL", value="true" if report.is_new else "false")
    local("outcome", xsi_type="CE", code=report.outcome)
    if report.sold_on:
        local("sold_on", xsi_type="TS", value=_ts(report.sold_on))
    if report.onset_on:
        local("onset_on", xsi_type="TS", value=_ts(report.onset_on))
    for name in ("enterprise", "reporting_enterprise"):
        enterprise = getattr(report, name)
        if enterprise is not None:
            local(name, xsi_type="II", extension=enterprise.credit_code, root="2.16.156.10011.1.1")


def _export_reporter(event, report: AdrReport) -> None:
    related = _sub(
        _sub(event, "outboundRelationship", typeCode="SPRT"), "relatedInvestigation", classCode="INVSTG", moodCode="EVN"
    )
    _sub(related, "code", code="2", codeSystem=f"{ICH}.1.22", displayName="sourceReport")
    entity = _sub(
        _sub(
            _sub(_sub(related, "subjectOf2", typeCode="SUBJ"), "controlActEvent", classCode="CACT", moodCode="EVN"),
            "author",
            typeCode="AUT",
        ),
        "assignedEntity",
        classCode="ASSIGNED",
    )
    person = _sub(entity, "assignedPerson", classCode="PSN", determinerCode="INSTANCE")
    if report.reporter_qualification:
        qualified = _sub(person, "asQualifiedEntity", classCode="QUAL")
        _sub(qualified, "code", code=_inverse(QUALIFICATION)[report.reporter_qualification], codeSystem=f"{ICH}.1.6")
    located = _sub(
        _sub(person, "asLocatedEntity", classCode="LOCE"), "location", classCode="COUNTRY", determinerCode="INSTANCE"
    )
    _sub(located, "code", code=report.reporter_country, codeSystem="1.0.3166.1.2.2")
    if report.reporter_unit:
        organisation = _sub(entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
        _sub(organisation, "name", report.reporter_unit)


# --- acknowledgement ----------------------------------------------------------------------------


def build_ack(result: BatchResult, *, receiver_id: str = "YAOJIAN") -> bytes:
    """The batch acknowledgement MCCI_IN200101UV01 for a received batch (ACK.A / ACK.B.r)."""
    now = timezone.now()
    root = _batch_root("MCCI_IN200101UV01", f"ACK-{uuid.uuid4()}", f"{ICH}.3.20", now)
    for icsr in result.icsrs:
        message = _sub(root, "MCCI_IN000002UV01")
        _sub(message, "id", extension=f"ACK-{uuid.uuid4()}", root=f"{ICH}.3.19")
        _sub(message, "creationTime", value=_ts(now))
        _sub(message, "interactionId", extension="MCCI_IN000002UV01", root="2.16.840.1.113883.1.6")
        _sub(message, "processingCode", code="P")
        _sub(message, "processingModeCode", code="T")
        _sub(message, "acceptAckCode", code="NE")
        _device(message, "receiver", "RCV", result.sender or "UNKNOWN", f"{ICH}.3.16")
        _device(message, "sender", "SND", receiver_id, f"{ICH}.3.15")
        acknowledgement = _sub(message, "acknowledgement", typeCode=icsr.code)
        target = _sub(acknowledgement, "targetMessage")
        _sub(target, "id", extension=f"{icsr.message_id} {icsr.report_number}".strip(), root=f"{ICH}.3.1")
        _sub(_sub(acknowledgement, "acknowledgementDetail"), "text", icsr.text)
    _device(root, "receiver", "RCV", result.sender or "UNKNOWN", f"{ICH}.3.18")
    _device(root, "sender", "SND", receiver_id, f"{ICH}.3.17")
    line = _sub(root, "attentionLine")
    _sub(line, "keyWordText", code="3", codeSystem=f"{ICH}.1.24", displayName="dateOfIcsrBatchTransmission")
    _sub(line, "value", xsi_type="TS", value=_ts(result.received_at))
    acknowledgement = _sub(root, "acknowledgement", typeCode=result.code)
    _sub(_sub(acknowledgement, "targetBatch"), "id", extension=result.batch_id or "UNKNOWN", root=f"{ICH}.3.22")
    _sub(_sub(acknowledgement, "acknowledgementDetail"), "text", result.text)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
