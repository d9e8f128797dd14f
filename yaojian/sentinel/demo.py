"""Demo sentinels 哨点演示数据: sites among the generated pharmacies/clinics, their reports, planted clusters.

``generate_sentinels`` registers sentinel sites in ``division``, writes a few months of sentinel reports
(mostly on time, some late, a couple of silent sites), plants clusters — cases of one product and batch
at the sites of one district over a few days — and runs the daily detection over the last days, so the
clusters list and the response board have something to show.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.utils import timezone

from yaojian.adr.models import AdrReport, ReportSource
from yaojian.core import audit, services
from yaojian.core.choices import AuditAction
from yaojian.core.models import Division
from yaojian.registry.models import Batch, Enterprise, Product

from . import detection
from . import services as sentinel_services
from .models import SITE_ENTERPRISE_TYPES, Cluster, SentinelConfig, SentinelSite, WatchedGroup

REACTIONS = ("皮疹", "瘙痒", "恶心", "头晕", "腹泻", "心悸", "寒战", "发热")
SITE_KIND = {etype: kind for kind, types in SITE_ENTERPRISE_TYPES.items() for etype in types}


@dataclass
class DemoSummary:
    sites: int = 0
    reports: int = 0
    planted: list[str] = field(default_factory=list)
    detected: dict[str, datetime.date] = field(default_factory=dict)  # planted label → first detection day
    clusters: int = 0
    escalated: int = 0

    def __str__(self):
        lines = [
            f"哨点 {self.sites} 家，哨点报告 {self.reports} 份，"
            f"聚集性信号 {self.clusters} 个，超时升级 {self.escalated} 项"
        ]
        lines += [f"  植入：{label}，检出日期 {self.detected.get(label, '未检出')}" for label in self.planted]
        return "\n".join(lines)


def _report(n, seed, site, product, batch_id, sold_on, delay, rng) -> AdrReport:
    return AdrReport(
        report_number=f"SD{sold_on:%Y%m%d}{seed:02d}{n:06d}",
        source=ReportSource.SENTINEL,
        enterprise_id=product.holder_id,
        product_id=product.pk,
        batch_id=batch_id,
        reporting_enterprise_id=site.enterprise_id,
        reporter_unit=site.enterprise.name,
        sold_on=sold_on,
        received_on=sold_on + datetime.timedelta(days=int(min(delay, 1))),
        onset_on=sold_on + datetime.timedelta(days=int(min(delay, 1))),
        reported_on=sold_on + datetime.timedelta(days=int(delay)),
        reaction=REACTIONS[int(rng.integers(len(REACTIONS)))],
        patient_sex="F" if rng.random() < 0.55 else "M",
        patient_age=int(rng.integers(2, 88)),
        division_code=site.enterprise.division_id,
        import_batch=f"sentinel-demo-{seed}",
    )


def _bulk_reports(reports: list[AdrReport], seed: int) -> None:
    """Write the demo reports in bulk with one audit record holding their content hash."""
    created = AdrReport.objects.bulk_create(reports, batch_size=1000)
    digest = hashlib.sha256("".join(f"{r.report_number}:{r.reported_on}" for r in created).encode()).hexdigest()
    audit.record(
        actor=None,
        action=AuditAction.IMPORT,
        object_type="adr.adrreport",
        object_repr=f"哨点演示报告 seed={seed}",
        after={"rows": len(created), "sha256": digest},
    )


@transaction.atomic
def generate_sentinels(
    *,
    division: str = "320106",
    sites: int = 12,
    days: int = 120,
    as_of: datetime.date | None = None,
    seed: int = 1,
    detect_days: int = 10,
    replications: int | None = None,
) -> DemoSummary:
    as_of = as_of or timezone.localdate()
    rng = np.random.default_rng(seed)
    prefix = Division.objects.get(code=division).prefix
    # The generator already files sentinel-source reports for some pharmacies/clinics: those become sites
    # first; the rest are new sites that get their own reports here.
    reporting = set(
        AdrReport.objects.filter(source=ReportSource.SENTINEL, reporting_enterprise__isnull=False)
        .values_list("reporting_enterprise_id", flat=True)
        .distinct()
    )
    eligible = Enterprise.objects.filter(
        type__in=list(SITE_KIND), division_code__startswith=prefix, status="active", sentinel_site__isnull=True
    ).order_by("pk")
    candidates = list(eligible.filter(pk__in=reporting)[: max(sites - 3, 0)])
    candidates += list(eligible.exclude(pk__in=reporting)[: sites - len(candidates)])
    if len(candidates) < 3:
        raise ValueError(f"{division} 内药店/诊所/医疗机构不足 3 家，请先生成演示企业（yaojian generate）")
    start = as_of - datetime.timedelta(days=days - 1)
    summary = DemoSummary()
    registered = []
    for i, enterprise in enumerate(candidates):
        groups = list(rng.choice(WatchedGroup.values, size=int(rng.integers(1, 4)), replace=False))
        registered.append(
            services.create_record(
                SentinelSite,
                actor=None,
                enterprise=enterprise,
                kind=SITE_KIND[enterprise.type],
                watched_groups=sorted(groups),
                active_from=start - datetime.timedelta(days=30 * (i % 3)),
            )
        )
    summary.sites = len(registered)

    products = list(Product.objects.filter(category="drug").order_by("pk")[:200])
    batches: dict[int, list[int]] = {}
    for pid, bid in Batch.objects.filter(product__in=products).values_list("product_id", "pk"):
        batches.setdefault(pid, []).append(bid)
    products = [p for p in products if p.pk in batches]
    if len(products) < 3:
        raise ValueError("演示产品不足（需有批次的药品），请先生成演示数据（yaojian generate）")

    # Background for the new sites: about one report a week, the last two silent for the last 45 days.
    reports, n = [], 0
    fresh = [site for site in registered if site.enterprise_id not in reporting]
    for i, site in enumerate(fresh):
        quiet_from = as_of - datetime.timedelta(days=45) if i >= len(fresh) - 2 else as_of
        span = (quiet_from - start).days
        for _ in range(int(rng.poisson(span / 7))):
            product = products[int(rng.integers(len(products)))]
            sold = start + datetime.timedelta(days=int(rng.integers(max(span - 14, 1))))
            delay = int(rng.choice([0, 1, 2, 3, 5, 7, 9, 14], p=[0.2, 0.25, 0.15, 0.12, 0.1, 0.08, 0.06, 0.04]))
            reports.append(_report(n, seed, site, product, int(rng.choice(batches[product.pk])), sold, delay, rng))
            n += 1

    # Planted clusters: one product and batch at the sites of one district, a case every day or two.
    by_district: dict[str, list[SentinelSite]] = {}
    silent = {site.pk for site in fresh[-2:]}
    for site in [s for s in registered if s.pk not in silent] or registered:
        by_district.setdefault(site.enterprise.division_id, []).append(site)
    districts = sorted(by_district, key=lambda code: -len(by_district[code]))
    # The older cluster is handled and closed; the recent one is detected today with its clocks running.
    plan = [(districts[-1], products[1], (8, 7, 5)), (districts[0], products[0], (3, 1, 0))]
    for code, product, ago in plan:
        batch_id = batches[product.pk][0]
        here = by_district[code]
        label = f"{product.name} 批次#{batch_id} @{code}（{len(ago)} 例）"
        summary.planted.append(label)
        for k, back in enumerate(ago):
            sold = as_of - datetime.timedelta(days=back)
            reports.append(_report(n, seed, here[k % len(here)], product, batch_id, sold, 0, rng))
            n += 1
    _bulk_reports(reports, seed)
    summary.reports = len(reports)

    config = SentinelConfig.current()
    if replications is not None:
        config.scan_replications = replications
    found: dict[str, Cluster] = {}
    for back in range(detect_days - 1, -1, -1):
        day = as_of - datetime.timedelta(days=back)
        moment = min(timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0))), timezone.now())
        result = detection.detect(day, now=moment, prefix=prefix, config=config)
        for cluster in result.created:
            for (code, product, _ago), label in zip(plan, summary.planted, strict=True):
                if cluster.product_id == product.pk and code in cluster.districts and label not in found:
                    summary.detected[label], found[label] = day, cluster
    if summary.planted[0] in found:
        _handle(found[summary.planted[0]], hours=20)
    summary.clusters = Cluster.objects.filter(division_code__startswith=prefix).count()
    summary.escalated = len(sentinel_services.escalate(now=timezone.now()))
    return summary


def _handle(cluster: Cluster, hours: int) -> None:
    """Complete the three tasks and close the response ``hours`` after detection (a handled demo signal)."""
    done = cluster.detected_at + datetime.timedelta(hours=hours)
    for task in cluster.response.tasks.all():
        sentinel_services.complete_task(task, actor=None, result="演示：已办结", now=done)
    sentinel_services.close_response(
        cluster.response, actor=None, conclusion="quality", assessment="演示：同批次抽检不合格，已控制", now=done
    )
