"""Default risk-model parameters 风险模型参数: version 1 and the revisions that followed it.

The model follows the structure of PIC/S PI 037-1: an *intrinsic* risk (what the
enterprise is and handles) combined with a *compliance* risk (how it has behaved),
then a supervision level from the two and the credit grade. Every number here is a
policy choice, stored in a versioned ``RiskModelConfig`` row that an administrator can
change; each score records the version it used.

``DEFAULT_PARAMETERS`` is version 1 and never changes meaning. Later changes arrive as
revisions in ``REVISIONS``: a data migration stores a new version that adds the new keys to
the active parameters and moves a changed value only where it still holds the previous
default (an administrator's own edits are kept), so every older version still scores
exactly as it did.
"""

from dataclasses import dataclass, field

DEFAULT_PARAMETERS = {
    # Intrinsic risk 固有风险 ------------------------------------------------------------
    "type_base": {
        "drug_manufacturer": 5.0,
        "drug_wholesaler": 3.5,
        "retail_chain": 2.5,
        "retail_pharmacy": 1.5,
        "medical_institution": 2.5,
        "clinic": 1.5,
        "aesthetics": 3.0,  # 医美药械组合: a high-frequency risk scenario of seed 004
        "device_manufacturer": 4.0,
        "device_trader": 2.0,
        "cosmetics_manufacturer": 2.5,
        "cosmetics_trader": 1.0,
    },
    "scale_multiplier": {"small": 1.0, "medium": 1.15, "large": 1.3},
    # Present if the enterprise holds or makes at least one such product.
    "product_attribute_weights": {
        "is_vaccine": 3.0,
        "is_blood_product": 3.0,
        "is_injection": 1.5,
        "is_sterile_device": 1.5,
        "is_implant": 2.5,
        "is_paediatric": 1.0,
        "is_narcotic_psychotropic": 2.5,
        "is_cold_chain": 1.5,
    },
    "product_count_weight": 0.5,  # × log2(1 + number of products)
    # Compliance risk 合规风险 -----------------------------------------------------------
    "lookback_days": 1095,
    "half_life_days": 365,  # an event's weight halves every year
    "defect_weights": {"critical": 4.0, "major": 1.5, "minor": 0.3},
    "sampling_failure_weight": 3.0,
    "adr_serious_weight": 0.6,
    "adr_death_weight": 2.0,
    # ADR reports per product per year at the national mean (a configurable reference figure).
    "adr_national_mean_per_product": 1.0,
    "adr_rate_weight": 1.0,  # × log2(rate / national mean), above the mean only
    "complaint_substantiated_weight": 1.0,
    "complaint_weight": 0.2,
    "penalty_weights": {
        "warning": 1.0,
        "fine": 2.0,
        "confiscation": 2.5,
        "suspension": 4.0,
        "revocation": 5.0,
        "restriction": 4.0,
    },
    "credit_weights": {"A": -1.5, "B": 0.0, "C": 2.5, "D": 5.0},
    # Levels 分级 ----------------------------------------------------------------------------
    "intrinsic_thresholds": [3.0, 6.0],  # low < 3 ≤ medium < 6 ≤ high
    "compliance_thresholds": [2.0, 6.0],
    # Supervision level 监管级别 1 (lowest) … 4 (highest) by [intrinsic tier][compliance tier].
    "level_matrix": [[1, 2, 3], [1, 2, 4], [2, 3, 4]],
    "credit_level_bump": {"C": 1, "D": 1},
    "inspection_interval_months": {"1": 36, "2": 24, "3": 12, "4": 6},
}

# Product risk 产品风险 (revision of version 2): the same intrinsic × compliance structure per product.
PRODUCT_RISK_PARAMETERS = {
    "category_base": {"drug": 1.0, "device": 1.0, "cosmetic": 0.5},
    "attribute_weights": {
        "is_vaccine": 3.0,
        "is_blood_product": 3.0,
        "is_injection": 1.5,
        "is_sterile_device": 1.5,
        "is_implant": 2.5,
        "is_paediatric": 1.0,
        "is_narcotic_psychotropic": 2.5,
        "is_cold_chain": 1.5,
    },
    "device_class_weights": {"3": 1.5, "2": 0.5},
    "drug_type_weights": {"biological": 1.0},
    "prescription_weight": 0.5,
    # Seed 004's high-frequency scenarios: a product used by a medical-aesthetics institution
    # (医美药械组合, seen in its sampling, ADR reports or complaints) and online sales (a complaint
    # about the product whose subject names an online channel).
    "medical_aesthetics_weight": 1.5,
    "online_sales_weight": 1.0,
    "online_sales_keywords": ["网络", "网店", "网售", "电商", "直播", "平台"],
    "sampling_failure_weight": 3.0,
    "adr_serious_weight": 0.6,
    "adr_death_weight": 2.0,
    # ADR reports per product per year taken as the reference rate, by product category.
    "adr_reference_per_year": {"drug": 1.0, "device": 0.5, "cosmetic": 0.2},
    "adr_rate_weight": 1.0,  # × log2(rate / reference), above the reference only
    "complaint_substantiated_weight": 1.0,
    "complaint_weight": 0.2,
    "penalty_weight": 2.0,
    # Share of the holder's / a different manufacturer's compliance risk carried by each product.
    "holder_compliance_weight": 0.3,
    "manufacturer_compliance_weight": 0.2,
    "intrinsic_thresholds": [2.5, 5.0],
    "compliance_thresholds": [2.0, 5.0],
    "level_matrix": [[1, 2, 3], [1, 2, 4], [2, 3, 4]],
}

# Version 4: product risk calibrated on the province demo set so that the levels spread like the
# enterprises' (about 3/4 at level 1, a few per cent at level 4): the holder's share lowered, and ADR
# reference rates at the set's mean reports per product and year.
PRODUCT_RISK_V4 = {
    **PRODUCT_RISK_PARAMETERS,
    "adr_reference_per_year": {"drug": 2.0, "device": 1.0, "cosmetic": 0.2},
    "holder_compliance_weight": 0.1,
    "manufacturer_compliance_weight": 0.05,
    "intrinsic_thresholds": [3.0, 5.5],
    "compliance_thresholds": [3.5, 7.0],
}

# Version 6: the holder's share raised again. A product backtest on an earlier cut-off (2025-05-24, half a
# year ahead: the product's failed sampling tests and fatal ADR reports) ranked best with a larger holder
# share (AUC 0.647 at 0.1, 0.672 at 0.5); the compliance tiers are rescaled to keep the level spread.
PRODUCT_RISK_V6 = {
    **PRODUCT_RISK_V4,
    "holder_compliance_weight": 0.5,
    "manufacturer_compliance_weight": 0.25,
    "compliance_thresholds": [8.0, 16.0],
}


@dataclass(frozen=True)
class Revision:
    """A change of the parameters after version 1: keys added, and values moved from an old default."""

    note: str
    add: dict
    change: dict = field(default_factory=dict)  # key → (previous default, new value)


# Revisions after version 1, in order. Each is stored by its own data migration.
REVISIONS = [
    Revision("产品风险评分", {"product_risk": PRODUCT_RISK_PARAMETERS}),
    # Chosen by backtests on earlier cut-offs of the province demo set (2024-11-24 with one year ahead,
    # 2025-05-24 with half a year ahead; observed critical defects and sampling failures, never the
    # planted ground truth): adverse events in several dimensions at once are the stronger sign of a
    # systemic failure (PIC/S PI 037: findings across systems), and substantiated complaints weigh more.
    Revision(
        "多维度风险叠加；查证属实投诉加权",
        {
            "multi_dimension_weight": 1.5,
            "multi_dimension_groups": [
                ["defect_critical"],
                ["sampling_failure"],
                ["adr_serious", "adr_death"],
                ["complaint_substantiated"],
                ["penalty"],
            ],
        },
        {"complaint_substantiated_weight": (1.0, 2.0)},
    ),
    Revision("产品风险分级校准", {}, {"product_risk": (PRODUCT_RISK_PARAMETERS, PRODUCT_RISK_V4)}),
    # Trace leads 追溯异常线索 from the anomaly scans, per handling status: an open lead is a suspicion,
    # a confirmed one weighs like a substantiated complaint; dismissed leads are left out.
    Revision(
        "追溯异常线索",
        {"trace_lead_weights": {"new": 0.5, "assigned": 0.5, "investigating": 0.8, "confirmed": 2.0, "dismissed": 0.0}},
    ),
    Revision("产品风险：持有人合规风险占比", {}, {"product_risk": (PRODUCT_RISK_V4, PRODUCT_RISK_V6)}),
]

# Action rules 处置规则 (version 1). Each rule: conditions (all must hold) and an action.
DEFAULT_RULES = [
    {
        "code": "priority_recommendation",
        "name": "优先推荐",
        "action": "tag",
        "conditions": [
            {"predicate": "sampling_passed_consecutive_years", "params": {"years": 3}},
            {"predicate": "adr_rate_below_national_mean", "params": {"per_product_per_year": 1.0}},
            {"predicate": "credit_grade_in", "params": {"grades": ["A"]}},
        ],
        "params": {"tag": "优先推荐", "departments": ["health", "insurance", "science", "finance"]},
    },
    {
        "code": "yellow_warning",
        "name": "黄灯预警",
        "action": "warning",
        "conditions": [{"predicate": "critical_defects_at_least", "params": {"count": 2, "window_days": 365}}],
        # A rectification deadline 30 % shorter than the standard one (seed 004 §一).
        "params": {"standard_rectification_days": 30, "shortening": 0.3},
    },
]


def add_revision(config_model, revision: Revision):
    """Store a new active version: the active parameters with ``revision`` applied.

    Keys the active version already has are not overwritten by ``add``; a ``change`` applies only
    where the active value is still the previous default. Nothing to do → no new version. Works on
    the historical model inside a data migration as well as on the live one, and creates version 1
    first on an empty table.
    """
    active = config_model.objects.filter(is_active=True).order_by("-version").first()
    active = active or config_model.objects.order_by("-version").first()
    if active is None:
        active = config_model.objects.create(version=1, parameters=DEFAULT_PARAMETERS, is_active=True, note="默认参数")
    updates = {key: value for key, value in revision.add.items() if key not in active.parameters}
    updates |= {key: new for key, (old, new) in revision.change.items() if active.parameters.get(key) == old}
    if not updates:
        return active
    latest = config_model.objects.order_by("-version").values_list("version", flat=True).first()
    config = config_model.objects.create(
        version=latest + 1, parameters={**active.parameters, **updates}, is_active=True, note=revision.note
    )
    config_model.objects.exclude(pk=config.pk).update(is_active=False)
    return config
