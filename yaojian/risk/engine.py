"""Risk scoring engine 风险评分引擎 — set-based.

Every input is one grouped SQL query (per enterprise and month, or per enterprise),
turned into NumPy arrays aligned on the enterprise ids; contributions are array
expressions. Nothing loops over records in Python, so a province (~50,000
enterprises, ~1,000,000 ADR reports) is scored in seconds.

Time decay: an event of age *a* days weighs 0.5 ** (a / half_life). Events are grouped
by calendar month, and a month's age is taken from its 15th day.
"""

import datetime
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncMonth

from yaojian.adr.models import AdrReport
from yaojian.complaints.models import Complaint
from yaojian.credit.models import CreditRating
from yaojian.enforcement.models import Penalty
from yaojian.inspections.models import Defect, Inspection
from yaojian.registry.choices import DeviceClass, DrugType, EnterpriseType
from yaojian.registry.models import Enterprise, Product
from yaojian.sampling.models import SamplingTest
from yaojian.trace.models import TraceLead

# Factor key → Chinese label shown in "主要风险因素".
FACTOR_LABELS = {
    "type_scale": "企业类型与规模",
    "product_attributes": "高风险品种",
    "product_count": "品种数量",
    "defect_critical": "严重缺陷",
    "defect_major": "主要缺陷",
    "defect_minor": "一般缺陷",
    "sampling_failure": "抽检不合格",
    "adr_serious": "严重不良反应",
    "adr_death": "死亡病例报告",
    "adr_rate": "不良反应报告率高于全国均值",
    "complaint_substantiated": "查证属实的投诉举报",
    "complaint": "投诉举报",
    "penalty": "行政处罚",
    "credit": "信用等级",
    "multi_dimension": "多维度风险叠加",
    "trace_leads": "追溯异常线索",
    # Product factors 产品风险因素 (the shared keys above keep their labels).
    "category": "产品类别",
    "medical_aesthetics": "医美药械组合",
    "online_sales": "网络销售",
    "holder_risk": "持有人合规风险",
    "manufacturer_risk": "生产企业合规风险",
}
INTRINSIC_FACTORS = ("type_scale", "product_attributes", "product_count")
PRODUCT_INTRINSIC_FACTORS = ("category", "product_attributes", "medical_aesthetics", "online_sales")


def counted_adr_reports():
    """ADR reports that count: merged duplicates and nullified reports are left out."""
    return AdrReport.objects.filter(duplicate_of__isnull=True, is_nullified=False)


@dataclass
class ScoreTable:
    """Scores of a set of enterprises as of one date, column-wise."""

    as_of: datetime.date
    config_version: int
    enterprise_ids: np.ndarray
    division_codes: np.ndarray
    contributions: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]  # raw (undecayed) event counts behind each factor, for explanations
    lookback_days: int
    intrinsic: np.ndarray = field(init=False)
    compliance: np.ndarray = field(init=False)
    score: np.ndarray = field(init=False)
    level: np.ndarray = field(init=False)
    interval_months: np.ndarray = field(init=False)
    last_inspected: np.ndarray = field(init=False)  # ordinal days, 0 = never inspected
    next_due: np.ndarray = field(init=False)  # ordinal days
    credit_grades: np.ndarray = field(init=False)
    product_flags: dict[str, np.ndarray] = field(default_factory=dict)
    dimension_groups: list[list[str]] = field(default_factory=list)

    def __len__(self):
        return len(self.enterprise_ids)

    def detail(self, key: str, i: int) -> str:
        n = _count(self.counts, key, i)
        if key == "type_scale":
            return "按企业类型与规模确定的基础风险"
        if key == "product_attributes":
            names = [str(Product._meta.get_field(f).verbose_name) for f, on in self.product_flags.items() if on[i]]
            return "涉及" + "、".join(names)
        if key == "product_count":
            return "持有或生产的品种数量"
        if key == "credit":
            return f"最近信用等级 {self.credit_grades[i]}"
        if key == "adr_rate":
            return f"近一年不良反应报告 {n} 份，高于全国均值"
        if key == "trace_leads":
            confirmed = _count(self.counts, "trace_leads_confirmed", i)
            return (
                f"近{self.lookback_days // 365}年 {n} 条未排除的追溯线索，其中已查实 {confirmed} 条（按时间衰减计分）"
            )
        if key == "multi_dimension":
            names = [
                FACTOR_LABELS[group[0]] if len(group) == 1 else "严重/死亡不良反应"
                for group in self.dimension_groups
                if sum(self.counts[k][i] for k in group) > 0
            ]
            return f"近{self.lookback_days // 365}年 {n} 个维度有不良记录：" + "、".join(names)
        return _window_detail(self.lookback_days, n)


@dataclass
class ProductScoreTable:
    """Scores of a set of products as of one date, column-wise (产品风险)."""

    as_of: datetime.date
    config_version: int
    product_ids: np.ndarray
    division_codes: np.ndarray
    contributions: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]
    attribute_parts: dict[str, np.ndarray]  # label → contribution of each intrinsic attribute
    partner_compliance: dict[str, np.ndarray]  # holder / manufacturer compliance risk behind their factors
    lookback_days: int
    intrinsic: np.ndarray = field(init=False)
    compliance: np.ndarray = field(init=False)
    score: np.ndarray = field(init=False)
    level: np.ndarray = field(init=False)

    def __len__(self):
        return len(self.product_ids)

    def detail(self, key: str, i: int) -> str:
        n = _count(self.counts, key, i)
        if key == "category":
            return "按产品类别确定的基础风险"
        if key == "product_attributes":
            return "属于" + "、".join(label for label, part in self.attribute_parts.items() if part[i] > 0)
        if key == "medical_aesthetics":
            return "曾在医疗美容机构抽检、使用或被投诉"
        if key == "online_sales":
            return f"涉及网络销售的投诉 {n} 件"
        if key == "adr_rate":
            return f"近一年不良反应报告 {n} 份，高于参考水平"
        if key in ("holder_risk", "manufacturer_risk"):
            who = "持有人" if key == "holder_risk" else "生产企业"
            return f"{who}合规风险 {self.partner_compliance[key][i]:.2f}"
        return _window_detail(self.lookback_days, n)


def _count(counts: dict, key: str, i: int) -> int:
    values = counts.get(key)
    return int(values[i]) if values is not None else 0


def _window_detail(lookback_days: int, n: int) -> str:
    return f"近{lookback_days // 365}年 {n} 项（按时间衰减计分）"


class _Aligner:
    """Maps enterprise ids of query results onto positions of the score arrays."""

    def __init__(self, ids: np.ndarray):
        self.ids = ids

    def positions(self, ids) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(self.ids, ids)
        pos = np.clip(pos, 0, max(len(self.ids) - 1, 0))
        found = (self.ids[pos] == ids) if len(self.ids) else np.zeros(len(ids), bool)
        return pos[found], found

    def sum(self, ids, values) -> np.ndarray:
        out = np.zeros(len(self.ids))
        if len(ids):
            pos, found = self.positions(ids)
            np.add.at(out, pos, np.asarray(values, dtype=float)[found])
        return out


def _decay(months: list[datetime.date], as_of: datetime.date, half_life: float) -> np.ndarray:
    ordinals = np.array([m.toordinal() + 14 for m in months], dtype=float)
    age = np.maximum(as_of.toordinal() - ordinals, 0.0)
    return np.power(0.5, age / half_life)


def _monthly(queryset, enterprise_field: str, date_field: str, as_of, lookback_days: int, **group):
    """Counts per (enterprise, month[, group values]) of events in the look-back window."""
    start = as_of - datetime.timedelta(days=lookback_days)
    rows = (
        queryset.filter(
            **{f"{date_field}__gt": start, f"{date_field}__lte": as_of, f"{enterprise_field}__isnull": False}
        )
        .annotate(_month=TruncMonth(date_field))
        .values(enterprise_field, "_month", *group.values())
        .annotate(_n=Count("pk"))
        .order_by()
    )
    return list(rows.values_list(enterprise_field, "_month", *group.values(), "_n"))


def _decayed_counts(align: _Aligner, queryset, owner_field: str, date_field: str, as_of, lookback, half_life):
    """Time-decayed and raw event counts per owner (enterprise or product) in the look-back window."""
    rows = _monthly(queryset, owner_field, date_field, as_of, lookback)
    owners = [r[0] for r in rows]
    n = np.array([r[2] for r in rows], dtype=float)
    return align.sum(owners, n * _decay([r[1] for r in rows], as_of, half_life)), align.sum(owners, n)


def _weighted_counts(align: _Aligner, queryset, date_field, group_field, weights, default, as_of, lookback, half_life):
    """Time-decayed sums per enterprise with a weight per group value (e.g. penalty kind), and the
    raw counts of the rows that carry weight."""
    rows = _monthly(queryset, "enterprise_id", date_field, as_of, lookback, group=group_field)
    ent = [r[0] for r in rows]
    w = np.array([weights.get(r[2], default) for r in rows], dtype=float)
    n = np.array([r[3] for r in rows], dtype=float)
    decay = _decay([r[1] for r in rows], as_of, half_life)
    return align.sum(ent, w * n * decay), align.sum(ent, n * (w != 0))


def compute(as_of: datetime.date, params: dict, config_version: int, enterprise_ids=None) -> ScoreTable:
    """Score every active enterprise (or the given ones) with data up to ``as_of``."""
    enterprises = Enterprise.objects.filter(Q(established_on__isnull=True) | Q(established_on__lte=as_of))
    if enterprise_ids is not None:
        enterprises = enterprises.filter(pk__in=list(enterprise_ids))
    ent_rows = list(enterprises.order_by("pk").values_list("pk", "division_code", "type", "scale"))
    ids = np.array([r[0] for r in ent_rows], dtype=np.int64)
    align = _Aligner(ids)
    subset = enterprise_ids is not None
    half_life, lookback = float(params["half_life_days"]), int(params["lookback_days"])
    contributions: dict[str, np.ndarray] = {}
    counts: dict[str, np.ndarray] = {}

    def limit(qs, field_name):
        return restrict(qs, field_name, ids, subset)

    # Intrinsic: type × scale.
    type_base = np.array([params["type_base"].get(r[2], 1.0) for r in ent_rows])
    scale = np.array([params["scale_multiplier"].get(r[3], 1.0) for r in ent_rows])
    contributions["type_scale"] = type_base * scale

    # Intrinsic: products held or made, with their risk attributes.
    flags = list(params["product_attribute_weights"])
    products = Product.objects.filter(Q(holder__in=enterprises) | Q(manufacturer__in=enterprises))
    attr_sums = {f: np.zeros(len(ids)) for f in flags}
    n_products = np.zeros(len(ids))
    for owner in ("holder_id", "manufacturer_id"):
        rows = list(
            products.values(owner)
            .annotate(_n=Count("pk"), **{f"_{f}": Count("pk", filter=Q(**{f: True})) for f in flags})
            .order_by()
            .values_list(owner, "_n", *[f"_{f}" for f in flags])
        )
        rows = [r for r in rows if r[0] is not None]
        if not rows:
            continue
        arr = np.array(rows, dtype=np.int64)
        n_products = np.maximum(n_products, align.sum(arr[:, 0], arr[:, 1]))
        for i, f in enumerate(flags):
            attr_sums[f] = np.maximum(attr_sums[f], align.sum(arr[:, 0], arr[:, 2 + i]))
    product_flags = {f: attr_sums[f] > 0 for f in flags}
    contributions["product_attributes"] = sum(
        params["product_attribute_weights"][f] * product_flags[f] for f in flags
    ) + np.zeros(len(ids))
    contributions["product_count"] = params["product_count_weight"] * np.log2(1 + n_products)

    # Compliance: inspection defects by grade.
    defect_rows = _monthly(
        limit(Defect.objects.all(), "inspection__enterprise_id"),
        "inspection__enterprise_id",
        "inspection__inspected_on",
        as_of,
        lookback,
        grade="grade",
    )
    for grade, weight in params["defect_weights"].items():
        rows = [r for r in defect_rows if r[2] == grade]
        ent = [r[0] for r in rows]
        n = np.array([r[3] for r in rows], dtype=float)
        decay = _decay([r[1] for r in rows], as_of, half_life)
        contributions[f"defect_{grade}"] = weight * align.sum(ent, n * decay)
        counts[f"defect_{grade}"] = align.sum(ent, n)

    def decayed_factor(key, queryset, enterprise_field, date_field, weight):
        decayed, counts[key] = _decayed_counts(
            align, limit(queryset, enterprise_field), enterprise_field, date_field, as_of, lookback, half_life
        )
        contributions[key] = weight * decayed

    decayed_factor(
        "sampling_failure",
        SamplingTest.objects.filter(result="fail"),
        "enterprise_id",
        "sampled_on",
        params["sampling_failure_weight"],
    )
    decayed_factor(
        "adr_serious",
        counted_adr_reports().filter(seriousness="serious"),
        "enterprise_id",
        "reported_on",
        params["adr_serious_weight"],
    )
    decayed_factor(
        "adr_death",
        counted_adr_reports().filter(seriousness="death"),
        "enterprise_id",
        "reported_on",
        params["adr_death_weight"],
    )
    decayed_factor(
        "complaint_substantiated",
        Complaint.objects.filter(substantiated=True),
        "enterprise_id",
        "received_on",
        params["complaint_substantiated_weight"],
    )
    decayed_factor(
        "complaint",
        Complaint.objects.exclude(substantiated=True),
        "enterprise_id",
        "received_on",
        params["complaint_weight"],
    )

    # ADR reporting rate over the last year against the national mean per product.
    year_rows = list(
        limit(counted_adr_reports(), "enterprise_id")
        .filter(reported_on__gt=as_of - datetime.timedelta(days=365), reported_on__lte=as_of)
        .values("enterprise_id")
        .annotate(_n=Count("pk"))
        .order_by()
        .values_list("enterprise_id", "_n")
    )
    reports = align.sum([r[0] for r in year_rows], [r[1] for r in year_rows])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            n_products > 0, reports / np.maximum(n_products, 1) / params["adr_national_mean_per_product"], 0
        )
        contributions["adr_rate"] = params["adr_rate_weight"] * np.where(ratio > 1, np.log2(ratio), 0.0)
    counts["adr_rate"] = reports

    # Penalties by kind.
    contributions["penalty"], counts["penalty"] = _weighted_counts(
        align,
        limit(Penalty.objects.all(), "enterprise_id"),
        "decided_on",
        "kind",
        params["penalty_weights"],
        1.0,
        as_of,
        lookback,
        half_life,
    )

    # Trace leads 追溯异常线索 by handling status (from version 5 on): dismissed leads weigh nothing.
    if "trace_lead_weights" in params:
        leads = limit(TraceLead.objects.all(), "enterprise_id")
        weights = params["trace_lead_weights"]
        contributions["trace_leads"], counts["trace_leads"] = _weighted_counts(
            align, leads, "found_at__date", "status", weights, 0.0, as_of, lookback, half_life
        )
        _, counts["trace_leads_confirmed"] = _weighted_counts(
            align, leads.filter(status="confirmed"), "found_at__date", "status", weights, 0.0, as_of, lookback, 1.0
        )

    # Adverse events in several dimensions at once (多维度风险叠加), from version 3 on.
    groups = params.get("multi_dimension_groups", [])
    if groups:
        counts["multi_dimension"] = sum(
            ((sum(counts[k] for k in group) > 0).astype(float) for group in groups), np.zeros(len(ids))
        )
        contributions["multi_dimension"] = params["multi_dimension_weight"] * counts["multi_dimension"]

    # Credit grade: the latest rating on or before the date.
    grades = latest_credit_grades(ids, as_of, subset)
    contributions["credit"] = np.array([params["credit_weights"].get(g, 0.0) for g in grades], dtype=float)

    table = ScoreTable(
        as_of=as_of,
        config_version=config_version,
        enterprise_ids=ids,
        division_codes=np.array([r[1] for r in ent_rows], dtype=object),
        contributions=contributions,
        counts=counts,
        lookback_days=lookback,
        product_flags=product_flags,
        dimension_groups=groups,
    )
    _finish(table, grades, params)
    last_rows = list(
        limit(Inspection.objects.filter(inspected_on__lte=as_of), "enterprise_id")
        .values("enterprise_id")
        .annotate(_last=Max("inspected_on"))
        .values_list("enterprise_id", "_last")
        .order_by()
    )
    last = np.zeros(len(ids), dtype=np.int64)
    if last_rows:
        pos, found = align.positions([r[0] for r in last_rows])
        last[pos] = np.array([r[1].toordinal() for r in last_rows], dtype=np.int64)[found]
    table.last_inspected = last
    # Due one interval after the last inspection (months as 30.44 days); never inspected → due now.
    due = last + np.round(table.interval_months * 30.44).astype(np.int64)
    table.next_due = np.where(last > 0, due, as_of.toordinal())
    return table


def restrict(queryset, field_name: str, ids: np.ndarray, subset: bool):
    """Narrow to ``ids`` only for a subset (a full run would send tens of thousands of parameters)."""
    return queryset.filter(**{f"{field_name}__in": ids.tolist()}) if subset else queryset


def latest_credit_grades(ids: np.ndarray, as_of: datetime.date, subset: bool = True) -> np.ndarray:
    """Each enterprise's latest credit grade on or before ``as_of`` ("" when never rated)."""
    rows = list(
        restrict(CreditRating.objects.filter(rated_on__lte=as_of), "enterprise_id", ids, subset)
        .order_by("enterprise_id", "rated_on")
        .values_list("enterprise_id", "grade")
    )
    grades = np.full(len(ids), "", dtype=object)
    if rows:
        ent = np.array([r[0] for r in rows], dtype=np.int64)
        last = np.r_[ent[1:] != ent[:-1], True]  # rows are sorted: keep each enterprise's last
        pos, found = _Aligner(ids).positions(ent[last])
        grades[pos] = np.array([r[1] for r in rows], dtype=object)[last][found]
    return grades


def _finish(table: ScoreTable, grades: np.ndarray, params: dict) -> None:
    """Totals, tiers and the supervision level from the intrinsic × compliance matrix and credit."""
    c = table.contributions
    table.intrinsic = sum(c[k] for k in INTRINSIC_FACTORS)
    table.compliance = np.maximum(sum(v for k, v in c.items() if k not in INTRINSIC_FACTORS), 0.0)
    table.score = table.intrinsic + table.compliance
    level = matrix_level(table.intrinsic, table.compliance, params)
    bump = np.array([params["credit_level_bump"].get(g, 0) for g in grades], dtype=int)
    table.level = np.clip(level + bump, 1, 4)
    table.credit_grades = grades
    intervals = params["inspection_interval_months"]
    table.interval_months = np.array([intervals[str(v)] for v in table.level], dtype=int)


def matrix_level(intrinsic: np.ndarray, compliance: np.ndarray, params: dict) -> np.ndarray:
    """Level 1–4 from the intrinsic tier × compliance tier matrix (PIC/S PI 037 style)."""
    intrinsic_tier = np.digitize(intrinsic, params["intrinsic_thresholds"])
    compliance_tier = np.digitize(compliance, params["compliance_thresholds"])
    return np.asarray(params["level_matrix"])[intrinsic_tier, compliance_tier]


def explain(table: "ScoreTable | ProductScoreTable", i: int, top: int | None = None) -> list[dict]:
    """Factor contributions of enterprise or product ``i`` in words, largest first (主要风险因素)."""
    items = []
    for key, values in table.contributions.items():
        value = float(values[i])
        if abs(value) < 1e-9:
            continue
        items.append(
            {
                "factor": key,
                "label": FACTOR_LABELS[key],
                "contribution": round(value, 4),
                "detail": table.detail(key, i),
            }
        )
    items.sort(key=lambda item: -abs(item["contribution"]))
    return items[:top] if top else items


# --- Product risk 产品风险 -------------------------------------------------------------------

_PRODUCT_COLUMNS = ("pk", "holder_id", "manufacturer_id", "division_code", "category", "drug_type", "device_class")


def _products_used_at(as_of: datetime.date, ids: np.ndarray, subset: bool, enterprise_type: str) -> np.ndarray:
    """Products seen at enterprises of one type (sampled there, reported from there or complained about there)."""
    sources = (
        (SamplingTest.objects.filter(sampled_on__lte=as_of), "enterprise__type"),
        (counted_adr_reports().filter(reported_on__lte=as_of), "reporting_enterprise__type"),
        (Complaint.objects.filter(received_on__lte=as_of), "enterprise__type"),
    )
    found: set[int] = set()
    for queryset, type_field in sources:
        found |= set(
            restrict(queryset.filter(**{type_field: enterprise_type}), "product_id", ids, subset)
            .exclude(product_id=None)
            .values_list("product_id", flat=True)
            .distinct()
        )
    return np.isin(ids, np.fromiter(found, dtype=np.int64, count=len(found)))


def compute_products(
    as_of: datetime.date,
    params: dict,
    config_version: int,
    enterprise_compliance: tuple[np.ndarray, np.ndarray],
    product_ids=None,
) -> ProductScoreTable:
    """Score every product (or the given ones) with data up to ``as_of``.

    ``enterprise_compliance`` holds sorted enterprise ids and their compliance risk, from the
    enterprise scores of the same run; the holder's and a different manufacturer's share of it
    becomes a factor of each product.
    """
    p = params["product_risk"]
    half_life, lookback = float(params["half_life_days"]), int(params["lookback_days"])
    flags = list(p["attribute_weights"])
    products = Product.objects.all() if product_ids is None else Product.objects.filter(pk__in=list(product_ids))
    rows = list(products.order_by("pk").values_list(*_PRODUCT_COLUMNS, "is_prescription", *flags))
    cols = np.array(rows, dtype=object).reshape(len(rows), len(_PRODUCT_COLUMNS) + 1 + len(flags)).T
    pks, holder, manufacturer, divisions, category, drug_type, device_class, prescription = cols[:8]
    flag_columns = cols[8:]
    ids = pks.astype(np.int64)
    align = _Aligner(ids)
    subset = product_ids is not None
    contributions: dict[str, np.ndarray] = {}
    counts: dict[str, np.ndarray] = {}

    def mapped(values, weights: dict) -> np.ndarray:
        return np.array([weights.get(v, 0.0) for v in values], dtype=float)

    # Intrinsic: category, risk attributes, and the two high-frequency scenarios.
    contributions["category"] = mapped(category, p["category_base"])
    parts = {
        str(Product._meta.get_field(f).verbose_name): p["attribute_weights"][f] * column.astype(bool)
        for f, column in zip(flags, flag_columns, strict=True)
    }
    for value, weight in p["device_class_weights"].items():
        parts[f"{DeviceClass(value).label}医疗器械"] = weight * (device_class == value)
    for value, weight in p["drug_type_weights"].items():
        parts[str(DrugType(value).label)] = weight * (drug_type == value)
    parts["处方药"] = p["prescription_weight"] * prescription.astype(bool)
    contributions["product_attributes"] = sum(parts.values(), np.zeros(len(ids)))
    contributions["medical_aesthetics"] = p["medical_aesthetics_weight"] * _products_used_at(
        as_of, ids, subset, EnterpriseType.AESTHETICS
    )
    online = Q(pk__in=[])  # no keyword, no online-sales complaint
    for keyword in p["online_sales_keywords"]:
        online |= Q(subject__contains=keyword)
    online_rows = list(
        restrict(Complaint.objects.filter(online, received_on__lte=as_of), "product_id", ids, subset)
        .exclude(product_id=None)
        .values("product_id")
        .annotate(_n=Count("pk"))
        .order_by()
        .values_list("product_id", "_n")
    )
    counts["online_sales"] = align.sum([r[0] for r in online_rows], [r[1] for r in online_rows])
    contributions["online_sales"] = p["online_sales_weight"] * (counts["online_sales"] > 0)

    # Compliance: the product's own records, time-decayed.
    own = {
        "sampling_failure": (SamplingTest.objects.filter(result="fail"), "sampled_on", "sampling_failure_weight"),
        "adr_serious": (counted_adr_reports().filter(seriousness="serious"), "reported_on", "adr_serious_weight"),
        "adr_death": (counted_adr_reports().filter(seriousness="death"), "reported_on", "adr_death_weight"),
        "complaint_substantiated": (
            Complaint.objects.filter(substantiated=True),
            "received_on",
            "complaint_substantiated_weight",
        ),
        "complaint": (Complaint.objects.exclude(substantiated=True), "received_on", "complaint_weight"),
        "penalty": (Penalty.objects.all(), "decided_on", "penalty_weight"),
    }
    for key, (queryset, date_field, weight) in own.items():
        decayed, counts[key] = _decayed_counts(
            align, restrict(queryset, "product_id", ids, subset), "product_id", date_field, as_of, lookback, half_life
        )
        contributions[key] = p[weight] * decayed

    # ADR reports over the last year against the category's reference rate.
    year_rows = list(
        restrict(counted_adr_reports(), "product_id", ids, subset)
        .filter(reported_on__gt=as_of - datetime.timedelta(days=365), reported_on__lte=as_of)
        .values("product_id")
        .annotate(_n=Count("pk"))
        .order_by()
        .values_list("product_id", "_n")
    )
    counts["adr_rate"] = align.sum([r[0] for r in year_rows], [r[1] for r in year_rows])
    ratio = counts["adr_rate"] / np.maximum(mapped(category, p["adr_reference_per_year"]), 1e-9)
    contributions["adr_rate"] = p["adr_rate_weight"] * np.log2(np.maximum(ratio, 1.0))

    # The holder's and (when different) the manufacturer's compliance risk.
    ent_ids, ent_compliance = enterprise_compliance

    def compliance_of(owners: np.ndarray) -> np.ndarray:
        out = np.zeros(len(ids))
        pos, found = _Aligner(ent_ids).positions(owners)
        out[found] = ent_compliance[pos]
        return out * (owners > 0)

    holder_ids = np.array([h or 0 for h in holder], dtype=np.int64)
    maker_ids = np.array([m or 0 for m in manufacturer], dtype=np.int64)
    separate = (maker_ids > 0) & (maker_ids != holder_ids)
    partner = {"holder_risk": compliance_of(holder_ids), "manufacturer_risk": compliance_of(maker_ids) * separate}
    contributions["holder_risk"] = p["holder_compliance_weight"] * partner["holder_risk"]
    contributions["manufacturer_risk"] = p["manufacturer_compliance_weight"] * partner["manufacturer_risk"]

    table = ProductScoreTable(
        as_of=as_of,
        config_version=config_version,
        product_ids=ids,
        division_codes=divisions,
        contributions=contributions,
        counts=counts,
        attribute_parts=parts,
        partner_compliance=partner,
        lookback_days=lookback,
    )
    table.intrinsic = sum((contributions[k] for k in PRODUCT_INTRINSIC_FACTORS), np.zeros(len(ids)))
    table.compliance = sum(
        (v for k, v in contributions.items() if k not in PRODUCT_INTRINSIC_FACTORS), np.zeros(len(ids))
    )
    table.score = table.intrinsic + table.compliance
    table.level = matrix_level(table.intrinsic, table.compliance, p)
    return table


def products_of(enterprise_ids) -> list[int]:
    """Products held or made by these enterprises (rescored when the enterprises' records change)."""
    ids = list(enterprise_ids)
    return list(
        Product.objects.filter(Q(holder_id__in=ids) | Q(manufacturer_id__in=ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
