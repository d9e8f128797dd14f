"""Risk jobs 风险作业: the incremental update on new records and the nightly run."""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from . import actions, pushes, services

# Above this many enterprises (a bulk import) one full run is cheaper than a subset run, whose id
# lists would also pass SQLite's limit on query parameters.
INCREMENTAL_LIMIT = 5000
log = logging.getLogger(__name__)


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
    domains: list[str] = field(default_factory=list)  # what each domain's daily job reported


def run_jobs(paths, *args) -> list[str]:
    """Run each job (dotted path) in turn; a failing one is logged and reported, the others still run."""
    lines = []
    for path in paths:
        try:
            lines.append(str(import_string(path)(*args)))
        except Exception:  # one domain's failure must not cost the others (or the risk job) their night
            log.exception("作业 %s 失败", path)
            lines.append(f"{path} 失败")
    return lines


def nightly(as_of=None) -> NightlyResult:
    """The domains' daily jobs (whose leads, clusters and coded cases the scores read), then the full
    recomputation, rules, overdue escalation and webhook deliveries (run by ``risk scheduler``)."""
    as_of = as_of or timezone.localdate()
    domains = run_jobs(settings.YAOJIAN_DAILY_JOBS, as_of, timezone.now())
    recompute = services.recompute(as_of=as_of)
    rules = actions.apply_rules(as_of=as_of)
    escalated = actions.escalate_overdue(as_of=as_of)
    delivered, undelivered = pushes.deliver_due()
    return NightlyResult(recompute, rules, escalated, delivered, undelivered, domains)
