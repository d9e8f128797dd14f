"""Access rules 权限与辖区: the only place that decides who may see or change what.

Two questions, answered here and nowhere else:

* ``has_perm(user, model, action)`` — may this role do this action on this kind of record?
* ``scoped(queryset, user, action)`` — which rows: the user's division subtree
  (GB/T 2260 codes are positional, so a subtree is a code prefix), or, for an enterprise
  user, the rows of its own enterprise.

Views, API endpoints, exports and searches all narrow data through ``scoped``; an object
outside it answers 404 (``get_scoped_or_404``), never its data.
"""

from django.db import models
from django.http import Http404

from .choices import Role

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
ALL = frozenset({VIEW, ADD, CHANGE, DELETE})
READ = frozenset({VIEW})

REGISTRY = ("registry.enterprise", "registry.licence", "registry.product", "registry.registration", "registry.batch")
RECORDS = (
    "inspections.inspection",
    "inspections.defect",
    "sampling.samplingtest",
    "adr.adrreport",
    "complaints.complaint",
    "enforcement.penalty",
    "credit.creditrating",
)
REGULATED = REGISTRY + RECORDS
# Derived records of the risk portrait: written by the risk jobs, handled by regulators.
RISK = ("risk.riskassessment", "risk.levelchange", "risk.riskwarning", "risk.assistancecase", "risk.ruledecision")

# What each role may do, by model label. Anything absent is denied.
PERMISSIONS: dict[str, dict[str, frozenset]] = {
    Role.ADMIN: {label: ALL for label in REGULATED + RISK}
    | {"core.auditrecord": READ, "imports.importjob": ALL, "risk.push": READ, "risk.riskmodelconfig": ALL},
    Role.REGULATOR: {label: ALL for label in REGULATED + RISK}
    | {"core.auditrecord": READ, "imports.importjob": ALL, "risk.push": READ, "risk.riskmodelconfig": READ},
    Role.INSPECTOR: {label: READ for label in REGULATED + RISK if label not in ("adr.adrreport",)}
    | {"inspections.inspection": ALL, "inspections.defect": ALL, "sampling.samplingtest": ALL},
    Role.ADR_ANALYST: {label: READ for label in REGISTRY} | {"adr.adrreport": ALL, "imports.importjob": ALL},
    # An enterprise reads its own dossier; complaints (complainant identities) and ADR
    # reports (patient data) stay with the regulator.
    Role.ENTERPRISE: {
        label: READ
        for label in REGULATED + ("risk.riskassessment", "risk.riskwarning", "risk.assistancecase")
        if label not in ("adr.adrreport", "complaints.complaint")
    },
    # Partner departments read only the lists pushed to them (no registry access).
    Role.PARTNER: {"risk.push": READ},
    # 等保 separation of duties: the auditor reads the trail and nothing else.
    Role.AUDITOR: {"core.auditrecord": READ},
}

# Signal detection 信号检测 (runs, pair results, signals and their history): ADR analysts and regulators.
SIGNALS = ("signals.signalrun", "signals.pairresult", "signals.signal", "signals.signalevent")
for _role in (Role.ADMIN, Role.REGULATOR, Role.ADR_ANALYST):
    PERMISSIONS[_role] = PERMISSIONS[_role] | {label: ALL for label in SIGNALS}

# Case work 病例处理 (reaction dictionary, duplicate queue): ADR analysts and regulators; the deadline and
# duplicate-scoring parameters are published by administrators and read by the others.
CASEWORK = ("adr.reactionterm", "casework.duplicatecandidate")
for _role in (Role.ADMIN, Role.REGULATOR, Role.ADR_ANALYST):
    PERMISSIONS[_role] = PERMISSIONS[_role] | {label: ALL for label in CASEWORK}
    PERMISSIONS[_role] = PERMISSIONS[_role] | {"casework.caseworkconfig": ALL if _role == Role.ADMIN else READ}

# Product risk scores 产品风险: whoever reads the enterprise scores reads them, with the same rights.
for _role in list(PERMISSIONS):
    if "risk.riskassessment" in PERMISSIONS[_role]:
        PERMISSIONS[_role] = PERMISSIONS[_role] | {
            "risk.productriskassessment": PERMISSIONS[_role]["risk.riskassessment"]
        }

# Packaging levels 药品包装规格/药品标识码: part of the product, with the product's rights for each role.
for _role in list(PERMISSIONS):
    if "registry.product" in PERMISSIONS[_role]:
        PERMISSIONS[_role] = PERMISSIONS[_role] | {"registry.productpackage": PERMISSIONS[_role]["registry.product"]}

# Trace leads 追溯线索 (anomaly scans): regulators handle them; inspectors read and record handling steps.
PERMISSIONS[Role.ADMIN] |= {"trace.tracelead": ALL}
PERMISSIONS[Role.REGULATOR] |= {"trace.tracelead": ALL}
PERMISSIONS[Role.INSPECTOR] |= {"trace.tracelead": frozenset({VIEW, CHANGE})}
# Trace events 追溯事件 (the Parquet store; trace.TraceEvent is a table-less marker): regulators query and upload
# (add), inspectors query; each page narrows by the jurisdiction rule in trace/views.py.
PERMISSIONS[Role.ADMIN] |= {"trace.traceevent": frozenset({VIEW, ADD})}
PERMISSIONS[Role.REGULATOR] |= {"trace.traceevent": frozenset({VIEW, ADD})}
PERMISSIONS[Role.INSPECTOR] |= {"trace.traceevent": READ}
# Thresholds of the trace scans 追溯线索阈值: who may raise leads (add) publishes a version, who reads leads reads.
for _role, _rights in list(PERMISSIONS.items()):
    if VIEW in _rights.get("trace.tracelead", ()):
        PERMISSIONS[_role] |= {"trace.thresholdconfig": ALL if ADD in _rights["trace.tracelead"] else READ}

# Smart-pharmacy warning 智慧药店: a pharmacy submits and reads its own purchase records; regulators read
# masked records and aggregates and handle alerts; only a regulator may look a buyer up in clear ("reveal",
# audited with a reason); inspectors read; the auditor reads the trail of it all and nothing else.
_PHARMACY_READ = {"pharmacy.purchaserecord": READ, "pharmacy.dailycount": READ, "pharmacy.drugclass": READ}
PERMISSIONS[Role.ADMIN] |= _PHARMACY_READ | {
    "pharmacy.alert": frozenset({VIEW, CHANGE}),
    "pharmacy.drugclass": ALL,
    "pharmacy.warningconfig": ALL,
}
PERMISSIONS[Role.REGULATOR] |= _PHARMACY_READ | {
    "pharmacy.purchaserecord": frozenset({VIEW, "reveal"}),
    "pharmacy.alert": frozenset({VIEW, CHANGE}),
    "pharmacy.warningconfig": READ,
}
PERMISSIONS[Role.INSPECTOR] |= _PHARMACY_READ | {"pharmacy.alert": READ}
PERMISSIONS[Role.ENTERPRISE] |= _PHARMACY_READ | {"pharmacy.purchaserecord": frozenset({VIEW, ADD})}

# Sentinel sites and clustered signals 哨点与聚集性信号: regulators and ADR analysts run them and the 24-hour
# response; inspectors read, and complete the response tasks assigned to them (checked in sentinel.services);
# the parameters are published by administrators.
SENTINEL = ("sentinel.sentinelsite", "sentinel.cluster", "sentinel.response", "sentinel.responsetask")
for _role in (Role.ADMIN, Role.REGULATOR, Role.ADR_ANALYST):
    PERMISSIONS[_role] |= {label: ALL for label in SENTINEL} | {"sentinel.escalation": READ}
    PERMISSIONS[_role] |= {"sentinel.sentinelconfig": ALL if _role == Role.ADMIN else READ}
PERMISSIONS[Role.INSPECTOR] |= {label: READ for label in SENTINEL + ("sentinel.escalation",)} | {
    "sentinel.responsetask": frozenset({VIEW, CHANGE})
}


def _label(model) -> str:
    return model._meta.label_lower


def role_of(user) -> str | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return user.role


def has_perm(user, model, action: str = VIEW) -> bool:
    role = role_of(user)
    if role is None:
        return False
    return action in PERMISSIONS.get(role, {}).get(_label(model), frozenset())


def jurisdiction_prefix(user) -> str | None:
    """Code prefix of the user's jurisdiction; ``None`` means nationwide (administrator)."""
    if user.division_id is None:
        return None if user.role == Role.ADMIN else "-"  # "-" matches no division code
    return user.division.prefix


def scoped(queryset: models.QuerySet, user, action: str = VIEW) -> models.QuerySet:
    """Rows of ``queryset`` that ``user`` may ``action``."""
    model = queryset.model
    if not has_perm(user, model, action):
        return queryset.none()
    if user.role == Role.ENTERPRISE:
        if user.enterprise_id is None:
            return queryset.none()
        condition = models.Q()
        for field in model.scope_enterprise_fields:
            condition |= models.Q(**{field: user.enterprise_id})
        return queryset.filter(condition)
    if user.role == Role.PARTNER:
        # A department reads only what was pushed to it (``scope_department_field``), in its jurisdiction.
        field = getattr(model, "scope_department_field", None)
        if field is None:
            return queryset.none()
        queryset = queryset.filter(**{field: user.department})
    prefix = jurisdiction_prefix(user)
    if prefix is None:
        return queryset
    return queryset.filter(division_code__startswith=prefix)


def get_scoped_or_404(queryset: models.QuerySet, user, action: str = VIEW, **lookup):
    try:
        return scoped(queryset, user, action).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404("未找到或无权访问") from exc


def can_act_on(user, obj, action: str) -> bool:
    """Object-level check used by services: the object must lie in the actor's scope."""
    if user is None:  # system jobs and command-line runs act with full authority
        return True
    return scoped(type(obj)._default_manager.filter(pk=obj.pk), user, action).exists()


def division_in_scope(user, division_code: str) -> bool:
    """May ``user`` place a record in this division (for creates)?"""
    if user is None:
        return True
    if user.role == Role.ENTERPRISE:
        return False
    prefix = jurisdiction_prefix(user)
    return prefix is None or division_code.startswith(prefix)
