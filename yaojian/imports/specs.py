"""Import specs 导入规格: per kind, the columns of the template, the natural key and the references.

A ``Column`` names its Chinese header (as in the template), the model field, a parser from
``parsing`` and whether it is required. A column with ``ref`` holds a reference that the engine
resolves set-wise (one query per referenced kind and chunk): ``division`` by its 6-digit code,
``enterprise`` by 统一社会信用代码, ``product`` by approval number, ``inspection`` by number and
``batch`` by the row's product approval number + batch number.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.apps import apps
from django.core.exceptions import ValidationError

from yaojian.core import identifiers
from yaojian.registry.choices import PackageLevel
from yaojian.registry.packaging import level_errors, validate_identifier

from . import parsing as p


@dataclass(frozen=True)
class Column:
    header: str
    field: str  # model field name (for a reference, the ForeignKey's name)
    parse: Callable
    required: bool = False
    ref: str = ""  # division | enterprise | product | batch | inspection
    example: str = ""
    help: str = ""


@dataclass(frozen=True)
class Spec:
    kind: str
    model_label: str
    title: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # headers of the natural key columns (their fields are the upsert's unique fields)
    division_from: str  # header whose resolved reference gives the row's division_code
    row_check: Callable | None = None  # values → list of (header, reason)
    after_write: Callable | None = None  # job id → None: set-based follow-up on the written rows (child rows)

    @property
    def model(self):
        return apps.get_model(self.model_label)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @cached_property
    def by_header(self) -> dict[str, Column]:
        return {c.header: c for c in self.columns}

    def column(self, header: str) -> Column:
        return self.by_header[header]


def _choices(label: str, field_name: str):
    return apps.get_model(label)._meta.get_field(field_name).choices


def C(header, field_name, parse, required=False, **kw) -> Column:  # noqa: N802 — reads like a table row
    return Column(header, field_name, parse, required, **kw)


def _check_dates(start: str, end: str, start_header: str, end_header: str):
    def check(values):
        if values.get(start) and values.get(end) and values[end] < values[start]:
            return [(end_header, f"{end_header}不能早于{start_header}")]
        return []

    return check


def _check_product(values):
    number, category = values.get("approval_number"), values.get("category")
    if number and category:
        reason = identifiers.check_product_number(category, number)
        if reason:
            return [("批准文号/注册证号/备案号", f"编号与产品类别不符：{reason}")]
    return []


def _package_identifier(value) -> str:
    """药品标识码: 7 digits by the trace code's structure rules (yaojian.registry.packaging)."""
    result = p.code(20)(value)
    try:
        validate_identifier(result)
    except ValidationError as exc:
        raise p.CellError(exc.messages[0]) from None
    return result


def _check_package(values):
    headers = {"split_units": "拆零单位数", "units_per_pack": "内含下级包装数"}
    errors = level_errors(values.get("level"), values.get("split_units"), values.get("units_per_pack"))
    return [(headers[name], reason) for name, reason in errors.items()]


ENT = "企业统一社会信用代码"
USCC_EXAMPLE = identifiers.build_uscc("320106", "70000001")
APPROVAL_EXAMPLE = "国药准字H20250001"


def _specs() -> dict[str, Spec]:
    from yaojian.adr.imports import write_children as write_adr_children  # the case's first drug and reaction

    ent = C(ENT, "enterprise", p.uscc, True, ref="enterprise", example=USCC_EXAMPLE, help="须为已登记企业")
    specs = [
        Spec(
            "enterprise",
            "registry.Enterprise",
            "企业",
            (
                C("统一社会信用代码", "credit_code", p.uscc, True, example=USCC_EXAMPLE, help="18位，校验位须正确"),
                C("企业名称", "name", p.text(200), True, example="南京示例药业有限公司"),
                C("企业类型", "type", p.choice(_choices("registry.Enterprise", "type")), True, example="药品生产企业"),
                C("行政区划代码", "division", p.division, True, ref="division", example="320106", help="6位代码"),
                C("住所/经营地址", "address", p.text(300), True, example="南京市鼓楼区中山北路1号"),
                C("法定代表人", "legal_representative", p.text(64), True, example="王某"),
                C("联系电话", "contact_phone", p.code(32), example="025-83000000"),
                C("规模", "scale", p.choice(_choices("registry.Enterprise", "scale")), example="小型"),
                C("成立日期", "established_on", p.date, example="2010-05-01"),
                C("经营状态", "status", p.choice(_choices("registry.Enterprise", "status")), example="在业"),
            ),
            key=("统一社会信用代码",),
            division_from="行政区划代码",
        ),
        Spec(
            "licence",
            "registry.Licence",
            "许可证",
            (
                C("许可证编号", "number", p.code(64), True, example="苏20250001"),
                ent,
                C("许可证类型", "type", p.choice(_choices("registry.Licence", "type")), True, example="药品生产许可证"),
                C("许可范围", "scope", p.text(0), example="片剂、胶囊剂"),
                C("发证日期", "issued_on", p.date, True, example="2025-01-01"),
                C("有效期至", "valid_until", p.date, True, example="2030-01-01"),
                C("状态", "status", p.choice(_choices("registry.Licence", "status")), example="有效"),
            ),
            key=("许可证编号",),
            division_from=ENT,
            row_check=_check_dates("issued_on", "valid_until", "发证日期", "有效期至"),
        ),
        Spec(
            "product",
            "registry.Product",
            "产品",
            (
                C("批准文号/注册证号/备案号", "approval_number", p.approval_number, True, example=APPROVAL_EXAMPLE),
                C("产品类别", "category", p.choice(_choices("registry.Product", "category")), True, example="药品"),
                C("产品名称", "name", p.text(200), True, example="阿莫西林胶囊"),
                C("持有人统一社会信用代码", "holder", p.uscc, True, ref="enterprise", example=USCC_EXAMPLE),
                C("生产企业统一社会信用代码", "manufacturer", p.uscc, ref="enterprise", example=USCC_EXAMPLE),
                C("剂型/型号", "dosage_form", p.text(64), example="胶囊剂"),
                C("规格", "specification", p.text(128), example="0.25g"),
                C("药品类型", "drug_type", p.choice(_choices("registry.Product", "drug_type")), example="化学药"),
                C("器械管理类别", "device_class", p.choice(_choices("registry.Product", "device_class"))),
                C("处方药", "is_prescription", p.boolean, example="是", help="是/否"),
                C("疫苗", "is_vaccine", p.boolean, example="否"),
                C("血液制品", "is_blood_product", p.boolean, example="否"),
                C("注射剂", "is_injection", p.boolean, example="否"),
                C("无菌器械", "is_sterile_device", p.boolean, example="否"),
                C("植入器械", "is_implant", p.boolean, example="否"),
                C("儿童用药", "is_paediatric", p.boolean, example="否"),
                C("麻醉/精神药品", "is_narcotic_psychotropic", p.boolean, example="否"),
                C("冷链", "is_cold_chain", p.boolean, example="否"),
            ),
            key=("批准文号/注册证号/备案号",),
            division_from="持有人统一社会信用代码",
            row_check=_check_product,
        ),
        Spec(
            "registration",
            "registry.Registration",
            "产品注册",
            (
                C("证书编号", "number", p.code(64), True, example="2025S00001"),
                C("批准日期", "issued_on", p.date, True, example="2025-01-01"),
                C("产品批准文号", "product", p.approval_number, True, ref="product", example=APPROVAL_EXAMPLE),
                C("类别", "kind", p.choice(_choices("registry.Registration", "kind")), True, example="药品注册批准"),
                C("有效期至", "valid_until", p.date, example="2030-01-01"),
                C("状态", "status", p.choice(_choices("registry.Registration", "status")), example="有效"),
            ),
            key=("证书编号", "批准日期"),
            division_from="产品批准文号",
            row_check=_check_dates("issued_on", "valid_until", "批准日期", "有效期至"),
        ),
        Spec(
            "batch",
            "registry.Batch",
            "批次",
            (
                C("产品批准文号", "product", p.approval_number, True, ref="product", example=APPROVAL_EXAMPLE),
                C("批号", "batch_number", p.code(64), True, example="B250101"),
                C("生产日期", "manufactured_on", p.date, example="2025-01-01"),
                C("有效期至", "expires_on", p.date, example="2027-12-31"),
                C("数量", "quantity", p.integer(), example="10000"),
            ),
            key=("产品批准文号", "批号"),
            division_from="产品批准文号",
            row_check=_check_dates("manufactured_on", "expires_on", "生产日期", "有效期至"),
        ),
        Spec(
            "package",
            "registry.ProductPackage",
            "药品包装规格（药品标识码）",
            (
                C("产品批准文号", "product", p.approval_number, True, ref="product", example=APPROVAL_EXAMPLE),
                C("包装级别", "level", p.choice(PackageLevel.choices), True, example="最小销售单元"),
                C("药品标识码", "identifier", _package_identifier, True, example="8100001", help="7位数字，以8开头"),
                C("包装规格", "package_specification", p.text(128), example="24粒/盒"),
                C("内含下级包装数", "units_per_pack", p.integer(1), help="中包装、外箱适用"),
                C("拆零单位数", "split_units", p.integer(1, 32767), example="24", help="最小销售单元适用"),
                C("启用", "is_active", p.boolean, example="是"),
            ),
            key=("药品标识码",),
            division_from="产品批准文号",
            row_check=_check_package,
        ),
        Spec(
            "inspection",
            "inspections.Inspection",
            "监督检查",
            (
                C("检查编号", "number", p.code(64), True, example="JC-2025-001"),
                ent,
                C(
                    "检查类型",
                    "kind",
                    p.choice(_choices("inspections.Inspection", "kind")),
                    True,
                    example="GMP符合性检查",
                ),
                C("检查日期", "inspected_on", p.date, True, example="2025-06-01"),
                C("检查人员", "inspectors", p.text(200), True, example="张检、李查"),
                C(
                    "检查结论",
                    "conclusion",
                    p.choice(_choices("inspections.Inspection", "conclusion")),
                    example="符合要求",
                ),
                C("检查情况", "summary", p.text(0)),
            ),
            key=("检查编号",),
            division_from=ENT,
        ),
        Spec(
            "defect",
            "inspections.Defect",
            "缺陷",
            (
                C("检查编号", "inspection", p.code(64), True, ref="inspection", example="JC-2025-001"),
                C("缺陷条款", "code", p.code(32), True, example="第十二条"),
                C("缺陷等级", "grade", p.choice(_choices("inspections.Defect", "grade")), True, example="一般缺陷"),
                C("缺陷描述", "description", p.text(0), True, example="温湿度记录不完整"),
                C("整改期限", "rectification_due", p.date, example="2025-07-01"),
                C("整改完成日期", "rectified_on", p.date),
            ),
            key=("检查编号", "缺陷条款"),
            division_from="检查编号",
        ),
        Spec(
            "sampling",
            "sampling.SamplingTest",
            "抽检",
            (
                C("抽样编号", "number", p.code(64), True, example="CJ-2025-001"),
                C("被抽样单位统一社会信用代码", "enterprise", p.uscc, True, ref="enterprise", example=USCC_EXAMPLE),
                C("产品批准文号", "product", p.approval_number, True, ref="product", example=APPROVAL_EXAMPLE),
                C("批号", "batch", p.code(64), ref="batch", example="B250101", help="与产品批准文号一起确定批次"),
                C("抽检类型", "kind", p.choice(_choices("sampling.SamplingTest", "kind")), example="监督抽检"),
                C("抽样日期", "sampled_on", p.date, True, example="2025-06-01"),
                C("检验结论", "result", p.choice(_choices("sampling.SamplingTest", "result")), example="符合规定"),
                C("不合格项目", "failed_items", p.text(0)),
                C("报告日期", "reported_on", p.date, example="2025-06-20"),
            ),
            key=("抽样编号",),
            division_from="被抽样单位统一社会信用代码",
        ),
        Spec(
            "adr",
            "adr.AdrReport",
            "不良反应报告",
            (
                C("报告编码", "report_number", p.code(64), True, example="ADR-2025-000001"),
                ent,
                C("报告类型", "report_type", p.choice(_choices("adr.AdrReport", "report_type")), example="自发报告"),
                C("来源", "source", p.choice(_choices("adr.AdrReport", "source")), example="医疗机构"),
                C(
                    "报告单位统一社会信用代码",
                    "reporting_enterprise",
                    p.uscc,
                    ref="enterprise",
                    help="报告单位为已登记的医疗机构、药店或哨点时填写",
                ),
                C("怀疑产品批准文号", "product", p.approval_number, ref="product", example=APPROVAL_EXAMPLE),
                C("批号", "batch", p.code(64), ref="batch", example="B250101", help="与怀疑产品批准文号一起确定批次"),
                C("报告单位", "reporter_unit", p.text(200), example="南京市第一医院"),
                C("销售日期", "sold_on", p.date, help="哨点药店填写"),
                C("首次获知日期", "received_on", p.date, example="2025-05-31"),
                C("报告日期", "reported_on", p.date, True, example="2025-06-01"),
                C("发生日期", "onset_on", p.date, example="2025-05-30"),
                C("不良反应名称", "reaction", p.text(200), True, example="皮疹"),
                C("严重程度", "seriousness", p.choice(_choices("adr.AdrReport", "seriousness")), example="一般"),
                C("新的不良反应", "is_new", p.boolean, example="否"),
                C("关联性评价", "causality", p.choice(_choices("adr.AdrReport", "causality")), example="可能"),
                C("患者性别", "patient_sex", p.choice(_choices("adr.AdrReport", "patient_sex")), example="女"),
                C("患者年龄", "patient_age", p.integer(0, 150), example="35"),
                C("转归", "outcome", p.choice(_choices("adr.AdrReport", "outcome")), example="好转"),
                C("不良反应过程描述", "description", p.text(0)),
            ),
            key=("报告编码",),
            division_from=ENT,
            after_write=write_adr_children,
        ),
        Spec(
            "complaint",
            "complaints.Complaint",
            "投诉举报",
            (
                C("受理编号", "number", p.code(64), True, example="TS-2025-001"),
                C("被投诉企业统一社会信用代码", "enterprise", p.uscc, True, ref="enterprise", example=USCC_EXAMPLE),
                C("涉及产品批准文号", "product", p.approval_number, ref="product", example=APPROVAL_EXAMPLE),
                C("来源渠道", "channel", p.choice(_choices("complaints.Complaint", "channel")), example="12315热线"),
                C("受理日期", "received_on", p.date, True, example="2025-06-01"),
                C("办理期限", "due_on", p.date, example="2025-07-01"),
                C("事项", "subject", p.text(200), True, example="药品质量问题"),
                C("内容", "content", p.text(0)),
                C("投诉人", "complainant_name", p.text(64), help="加密保存"),
                C("投诉人联系电话", "complainant_phone", p.code(32), help="加密保存"),
                C("办理状态", "status", p.choice(_choices("complaints.Complaint", "status")), example="已受理"),
                C("办结日期", "closed_on", p.date),
            ),
            key=("受理编号",),
            division_from="被投诉企业统一社会信用代码",
        ),
        Spec(
            "penalty",
            "enforcement.Penalty",
            "行政处罚",
            (
                C("处罚决定书文号", "decision_number", p.text(100), True, example="宁鼓市监罚〔2025〕1号"),
                C("当事人统一社会信用代码", "enterprise", p.uscc, True, ref="enterprise", example=USCC_EXAMPLE),
                C("涉案产品批准文号", "product", p.approval_number, ref="product"),
                C("处罚日期", "decided_on", p.date, True, example="2025-06-01"),
                C("违法事实", "violation", p.text(0), True, example="未按规定储存药品"),
                C("处罚依据", "legal_basis", p.text(300), example="《药品管理法》第一百二十六条"),
                C("处罚种类", "kind", p.choice(_choices("enforcement.Penalty", "kind")), True, example="罚款"),
                C("罚没金额（元）", "fine_amount", p.decimal(14, 2), example="50000"),
                C("已公示", "is_published", p.boolean, example="是"),
            ),
            key=("处罚决定书文号",),
            division_from="当事人统一社会信用代码",
        ),
        Spec(
            "credit",
            "credit.CreditRating",
            "信用评价",
            (
                ent,
                C("评定日期", "rated_on", p.date, True, example="2025-06-01"),
                C("信用等级", "grade", p.choice(_choices("credit.CreditRating", "grade")), True, example="A"),
                C("评定依据", "basis", p.text(0)),
                C("有效期至", "valid_until", p.date, example="2026-06-01"),
            ),
            key=(ENT, "评定日期"),
            division_from=ENT,
            row_check=_check_dates("rated_on", "valid_until", "评定日期", "有效期至"),
        ),
    ]
    return {spec.kind: spec for spec in specs}


_CACHE: dict[str, Spec] = {}


def all_specs() -> dict[str, Spec]:
    if not _CACHE:
        _CACHE.update(_specs())
    return _CACHE


def get_spec(kind: str) -> Spec:
    try:
        return all_specs()[kind]
    except KeyError:
        raise KeyError(f"未知的导入类型：{kind}（可选：{'、'.join(all_specs())}）") from None
