"""Risk jobs 风险作业: the incremental update on new records and the nightly run."""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from . import actions, pushes, services

# Above this many enterprises (a bulk import) one full run is cheaper than a subset run, whose id
# lists would also pass SQLite's limit on query parameters.
INCREMENTAL_LIMIT = 5000


def on_records_changed(sender, enterprise_ids, **kwargs) -> None:
    """Rescore and re-evaluate the rules for the enterprises whose records just changed."""
    if not getattr(settings, "YAOJIAN_RISK_INCREMENTAL", True):
        return
    ids = sorted(enterprise_ids)
    if len(ids) > INCREMENTAL_LIMIT:
        ids = None
    services.recompute(enterprise_ids=ids)
    actions.apply_rules(enterprise_ids=ids)


@dataclass
class NightlyResult:
    recompute: services.RecomputeResult
    rules: actions.RuleRunResult
    escalated: int
    delivered: int
    undelivered: int


def nightly(as_of=None) -> NightlyResult:
    """Full recomputation, rules, overdue escalation and webhook deliveries (run by ``risk scheduler``)."""
    as_of = as_of or timezone.localdate()
    recompute = services.recompute(as_of=as_of)
    rules = actions.apply_rules(as_of=as_of)
    escalated = actions.escalate_overdue(as_of=as_of)
    delivered, undelivered = pushes.deliver_due()
    return NightlyResult(recompute, rules, escalated, delivered, undelivered)
