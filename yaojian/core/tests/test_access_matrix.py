"""Role × route matrix 角色×路由矩阵: every URL pattern of the project against every role.

The expectations below are written out by hand — who may read and write each kind of record,
and which districts each account reaches — so that they check ``core.access`` rather than
repeat it. Every URL pattern must be classified in ``ROUTES``; a new page or endpoint that
is not makes the test fail with its name. Writes are tried too: a refused write must change
nothing and leave no audit record; allowed writes run inside a savepoint that is rolled back.
"""

import contextlib
import datetime
from dataclasses import dataclass

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from yaojian.adr.models import AdrReport, ReactionTerm
from yaojian.casework.models import DuplicateCandidate
from yaojian.core import services
from yaojian.core.api import dump
from yaojian.core.models import ApiToken, AuditRecord
from yaojian.imports.models import ImportJob, JobStatus
from yaojian.imports.specs import all_specs
from yaojian.registry.views import TABS as DOSSIER_TABS
from yaojian.risk.models import AssistanceCase, Department, Push, RiskWarning
from yaojian.signals.models import PairResult, Signal, SignalRun
from yaojian.trace.models import TraceLead
from yaojian.trace.store import Store as TraceStore
from yaojian.trace.tests.examples import DATA

ROLES = (
    "anonymous",
    "admin",
    "province",
    "city",
    "district",
    "inspector",
    "adr_analyst",
    "enterprise",
    "partner",
    "auditor",
)
DISTRICTS = ("gulou", "xuanwu", "liangxi")  # 320106 and 320102 in Nanjing, 320213 in Wuxi

# Districts whose rows each account reaches 辖区.
REACH = {
    "admin": {"gulou", "xuanwu", "liangxi"},
    "province": {"gulou", "xuanwu", "liangxi"},  # 江苏省
    "city": {"gulou", "xuanwu"},  # 南京市
    "district": {"gulou"},  # 鼓楼区
    "inspector": {"gulou"},
    "adr_analyst": {"gulou"},
    "enterprise": {"gulou"},  # its own enterprise, which lies in 鼓楼区
    "partner": {"gulou"},  # only what is pushed to its department (卫健) in 鼓楼区
    "auditor": {"gulou"},
}

REGULATORS = {"admin", "province", "city", "district"}
REGISTRY = ("registry.enterprise", "registry.licence", "registry.product", "registry.registration", "registry.batch")
READERS = {
    **{label: REGULATORS | {"inspector", "adr_analyst", "enterprise"} for label in REGISTRY},
    "registry.productpackage": REGULATORS | {"inspector", "adr_analyst", "enterprise"},
    "inspections.inspection": REGULATORS | {"inspector", "enterprise"},
    "inspections.defect": REGULATORS | {"inspector", "enterprise"},
    "sampling.samplingtest": REGULATORS | {"inspector", "enterprise"},
    "adr.adrreport": REGULATORS | {"adr_analyst"},
    "complaints.complaint": REGULATORS | {"inspector"},
    "enforcement.penalty": REGULATORS | {"inspector", "enterprise"},
    "credit.creditrating": REGULATORS | {"inspector", "enterprise"},
    "core.auditrecord": REGULATORS | {"auditor"},
    "imports.importjob": REGULATORS | {"adr_analyst"},
    "risk.riskassessment": REGULATORS | {"inspector", "enterprise"},
    "risk.productriskassessment": REGULATORS | {"inspector", "enterprise"},
    "risk.assistancecase": REGULATORS | {"inspector", "enterprise"},
    "risk.push": REGULATORS | {"partner"},
    "risk.riskmodelconfig": REGULATORS,
    "signals.signalrun": REGULATORS | {"adr_analyst"},
    "signals.pairresult": REGULATORS | {"adr_analyst"},
    "signals.signal": REGULATORS | {"adr_analyst"},
    "trace.tracelead": REGULATORS | {"inspector"},
    "trace.traceevent": REGULATORS | {"inspector"},
    "trace.thresholdconfig": REGULATORS | {"inspector"},
    "adr.reactionterm": REGULATORS | {"adr_analyst"},
    "casework.duplicatecandidate": REGULATORS | {"adr_analyst"},
    "casework.caseworkconfig": REGULATORS | {"adr_analyst"},
    "pharmacy.purchaserecord": REGULATORS | {"inspector", "enterprise"},
    "pharmacy.alert": REGULATORS | {"inspector"},
    "pharmacy.warningconfig": REGULATORS,
    "sentinel.sentinelsite": REGULATORS | {"adr_analyst", "inspector"},
    "sentinel.cluster": REGULATORS | {"adr_analyst", "inspector"},
    "sentinel.response": REGULATORS | {"adr_analyst", "inspector"},
    "sentinel.sentinelconfig": REGULATORS | {"adr_analyst"},
}
WRITERS = {
    **{label: REGULATORS for label in REGISTRY},
    "registry.productpackage": REGULATORS,
    "inspections.inspection": REGULATORS | {"inspector"},
    "inspections.defect": REGULATORS | {"inspector"},
    "sampling.samplingtest": REGULATORS | {"inspector"},
    "adr.adrreport": REGULATORS | {"adr_analyst"},
    "complaints.complaint": REGULATORS,
    "enforcement.penalty": REGULATORS,
    "credit.creditrating": REGULATORS,
    "risk.assistancecase": REGULATORS,
    "risk.riskmodelconfig": {"admin"},
    "signals.signalrun": REGULATORS | {"adr_analyst"},
    "signals.signal": REGULATORS | {"adr_analyst"},
    "trace.tracelead": REGULATORS | {"inspector"},
    "trace.traceevent": REGULATORS,
    "trace.thresholdconfig": REGULATORS,
    "adr.reactionterm": REGULATORS | {"adr_analyst"},
    "casework.duplicatecandidate": REGULATORS | {"adr_analyst"},
    "casework.caseworkconfig": {"admin"},
    # Only a retail pharmacy submits purchase records, for itself; the world's enterprise account is a
    # manufacturer's, so nobody here may (the pharmacy's own account is tested in yaojian/pharmacy/tests).
    "pharmacy.purchaserecord": set(),
    "pharmacy.alert": REGULATORS,
    "pharmacy.warningconfig": {"admin"},
    "sentinel.sentinelsite": REGULATORS | {"adr_analyst"},
    # A response page's writers act on its tasks (an inspector on the tasks assigned to them).
    "sentinel.response": REGULATORS | {"adr_analyst", "inspector"},
    "sentinel.sentinelconfig": {"admin"},
}
# A harmless edit per kind of record, for the update routes.
EDITS = {
    "registry.enterprise": {"address": "矩阵测试地址"},
    "registry.licence": {"scope": "矩阵测试范围"},
    "registry.product": {"specification": "矩阵测试规格"},
    "registry.registration": {"valid_until": "2031-01-01"},
    "registry.batch": {"quantity": 7},
    "registry.productpackage": {"package_specification": "矩阵测试"},
    "inspections.inspection": {"summary": "矩阵测试"},
    "inspections.defect": {"description": "矩阵测试"},
    "sampling.samplingtest": {"failed_items": "矩阵测试"},
    "adr.adrreport": {"description": "矩阵测试"},
    "complaints.complaint": {"content": "矩阵测试"},
    "enforcement.penalty": {"legal_basis": "矩阵测试"},
    "credit.creditrating": {"basis": "矩阵测试"},
}


@dataclass(frozen=True)
class Route:
    """How a URL pattern should answer: ``kind`` picks the check, ``label`` the kind of record."""

    kind: str
    label: str = ""
    parent: str = ""  # records added from this parent's page; for a detail page, the record it shows


def _api_routes() -> dict[str, Route]:
    routes = {}
    for label in EDITS:
        name = apps.get_model(label)._meta.model_name
        for operation in ("list", "create", "detail", "update", "delete"):
            routes[f"api:{name}-{operation}"] = Route(f"api-{operation}", label)
    return routes


# Dossier tabs 一企一档 and the kind of record each shows (its reader decides who sees the tab).
TABS = {
    "risk": "risk.riskassessment",
    "licences": "registry.licence",
    "products": "registry.product",
    "inspections": "inspections.inspection",
    "sampling": "sampling.samplingtest",
    "adr": "adr.adrreport",
    "complaints": "complaints.complaint",
    "penalties": "enforcement.penalty",
    "credit": "credit.creditrating",
    "history": "core.auditrecord",
    "timeline": "registry.enterprise",
}
PAGE_APPS = {
    "registry.enterprise": "registry",
    "registry.licence": "registry",
    "registry.product": "registry",
    "inspections.inspection": "inspections",
    "sampling.samplingtest": "sampling",
    "adr.adrreport": "adr",
    "complaints.complaint": "complaints",
    "enforcement.penalty": "enforcement",
    "credit.creditrating": "credit",
}
# Records edited from their parent's page: registrations and batches on the product, defects on the inspection.
CHILD_PAGES = {
    "registry.registration": "registry.product",
    "registry.batch": "registry.product",
    "registry.productpackage": "registry.product",
    "inspections.defect": "inspections.inspection",
}


def _page_routes() -> dict[str, Route]:
    routes = {}
    for label, app in PAGE_APPS.items():
        name = f"{app}:{apps.get_model(label)._meta.model_name}"
        for operation in ("list", "detail", "add", "edit", "delete"):
            routes[f"{name}-{operation}"] = Route(f"page-{operation}", label)
    for label, parent in CHILD_PAGES.items():
        name = f"{label.split('.')[0]}:{apps.get_model(label)._meta.model_name}"
        routes[f"{name}-add"] = Route("page-child-add", label, parent)
        routes[f"{name}-edit"] = Route("page-edit", label)
        routes[f"{name}-delete"] = Route("page-delete", label)
    return routes


ROUTES: dict[str, Route] = {
    "login": Route("page-public"),
    "logout": Route("page-logout"),
    "home": Route("page-login-required"),
    "public-penalties": Route("page-public"),  # 行政处罚公示: published decisions, for anyone
    "audit-list": Route("page-list", "core.auditrecord"),
    "audit-detail": Route("page-detail", "core.auditrecord"),
    **_page_routes(),
    "registry:enterprise-tab": Route("page-tab", "registry.enterprise"),
    # Risk portrait 风险画像 pages.
    "risk:dashboard": Route("page-list", "risk.riskassessment"),
    "risk:riskassessment-list": Route("page-list", "risk.riskassessment"),
    "risk:productriskassessment-list": Route("page-list", "risk.productriskassessment"),
    "risk:enterprise-panel": Route("page-detail", "risk.riskassessment", "registry.enterprise"),
    "risk:assistancecase-list": Route("page-list", "risk.assistancecase"),
    "risk:assistancecase-detail": Route("page-case", "risk.assistancecase"),
    "risk:push-list": Route("page-list", "risk.push"),
    "risk:push-ack": Route("page-push-ack", "risk.push"),
    "risk:config": Route("page-config", "risk.riskmodelconfig"),
    # Imports 数据导入: each account sees its own jobs (the administrator all), templates of the kinds it may add.
    "imports:job-list": Route("page-upload", "imports.importjob"),
    "imports:job-detail": Route("page-job", "imports.importjob"),
    "imports:job-rejects": Route("page-job", "imports.importjob"),
    "imports:template": Route("page-template", "imports.importjob"),
    # Signal workbench 信号检测: runs and signals of the jurisdiction; the product page's signal fragment.
    "signals:signalrun-list": Route("page-list", "signals.signalrun"),
    "signals:signalrun-add": Route("page-add", "signals.signalrun"),
    "signals:signalrun-detail": Route("page-detail", "signals.signalrun"),
    "signals:pairresult-detail": Route("page-detail", "signals.pairresult"),
    "signals:signal-list": Route("page-list", "signals.signal"),
    "signals:signal-detail": Route("page-case", "signals.signal"),  # an empty workflow step answers 400
    "signals:product-signals": Route("page-detail", "signals.signal", "registry.product"),
    # Trace leads 追溯线索: the queue, one lead (handling steps like a case), the dossier's fragment.
    "trace:tracelead-list": Route("page-list", "trace.tracelead"),
    "trace:tracelead-detail": Route("page-case", "trace.tracelead"),
    "trace:enterprise-leads": Route("page-detail", "trace.tracelead", "registry.enterprise"),
    "trace:thresholds": Route("page-config", "trace.thresholdconfig"),
    # 药品追溯 event store pages: queries for readers, the upload for writers, the public code query for anyone.
    "trace:public-query": Route("page-public"),
    "trace:code": Route("page-list", "trace.traceevent"),
    "trace:recall": Route("page-list", "trace.traceevent"),
    "trace:flows": Route("page-list", "trace.traceevent"),
    "trace:stock": Route("page-list", "trace.traceevent"),
    "trace:ingest": Route("page-trace-ingest", "trace.traceevent"),
    # Smart-pharmacy warning 智慧药店: overview, series, response list and board, masked purchase records,
    # the audited clear-text look-up (regulators only), the pharmacy's own entry, upload and API.
    "pharmacy:overview": Route("page-list", "pharmacy.alert"),
    "pharmacy:series": Route("page-list", "pharmacy.alert"),
    "pharmacy:config": Route("page-config", "pharmacy.warningconfig"),
    "pharmacy:alert-list": Route("page-list", "pharmacy.alert"),
    "pharmacy:alert-detail": Route("page-alert", "pharmacy.alert"),
    "pharmacy:record-list": Route("page-list", "pharmacy.purchaserecord"),
    "pharmacy:record-detail": Route("page-detail", "pharmacy.purchaserecord"),
    "pharmacy:record-add": Route("page-add", "pharmacy.purchaserecord"),
    "pharmacy:record-upload": Route("page-add", "pharmacy.purchaserecord"),
    "pharmacy:record-reveal": Route("page-reveal", "pharmacy.purchaserecord"),
    "api:purchaserecord-list": Route("api-list", "pharmacy.purchaserecord"),
    "api:purchaserecord-submit": Route("api-submit", "pharmacy.purchaserecord"),
    # ADR intake 不良反应报告: E2B(R3) upload (writers of reports) and one case's E2B export / nested API read.
    "adr:adrreport-e2b-upload": Route("page-add", "adr.adrreport"),
    "adr:adrreport-e2b-export": Route("page-detail", "adr.adrreport"),
    "api:adrreport-case": Route("api-detail", "adr.adrreport"),
    # Case work 病例处理: the national reaction dictionary, the coding queue, deadlines, duplicate pairs.
    "casework:term-list": Route("page-list", "adr.reactionterm"),
    "casework:term-add": Route("page-add", "adr.reactionterm"),
    "casework:term-edit": Route("page-term-edit", "adr.reactionterm"),
    "casework:term-search": Route("page-list", "adr.reactionterm"),
    "casework:coding-queue": Route("page-list", "adr.adrreport"),
    "casework:coding-resolve": Route("page-action", "adr.reactionterm"),
    "casework:deadline-list": Route("page-list", "adr.adrreport"),
    "casework:timeliness": Route("page-list", "adr.adrreport"),
    "casework:config": Route("page-config", "casework.caseworkconfig"),
    "casework:duplicate-list": Route("page-list", "casework.duplicatecandidate"),
    "casework:dedupe-run": Route("page-action", "casework.duplicatecandidate"),
    "casework:duplicate-detail": Route("page-review", "casework.duplicatecandidate"),
    "api:openapi-json": Route("public"),
    "api:openapi-view": Route("public"),
    # Sentinel sites and clustered signals 哨点与聚集性信号: sites, performance, the dashboard's targets fragment,
    # clusters, the response board and one response (task actions), the parameters.
    "sentinel:sentinelsite-list": Route("page-list", "sentinel.sentinelsite"),
    "sentinel:sentinelsite-add": Route("page-add", "sentinel.sentinelsite"),
    "sentinel:sentinelsite-edit": Route("page-edit", "sentinel.sentinelsite"),
    "sentinel:sentinelsite-detail": Route("page-detail", "sentinel.sentinelsite"),
    "sentinel:sentinelsite-delete": Route("page-delete", "sentinel.sentinelsite"),
    "sentinel:performance": Route("page-list", "sentinel.sentinelsite"),
    "sentinel:targets": Route("page-list", "sentinel.cluster"),
    "sentinel:cluster-list": Route("page-list", "sentinel.cluster"),
    "sentinel:cluster-detail": Route("page-detail", "sentinel.cluster"),
    "sentinel:board": Route("page-list", "sentinel.response"),
    "sentinel:response-detail": Route("page-alert", "sentinel.response"),  # an empty action answers 400
    "sentinel:config": Route("page-config", "sentinel.sentinelconfig"),
    "api:api-root": Route("not-found"),  # ninja's placeholder root answers 404 to everyone
    **_api_routes(),
    "api:auditrecord-list": Route("api-list", "core.auditrecord"),
    "api:auditrecord-detail": Route("api-detail", "core.auditrecord"),
    "api:auditrecord-object": Route("api-audit-object", "core.auditrecord"),
    # Every account manages its own API tokens and no one else's.
    "api:token-list": Route("own-tokens"),
    "api:token-create": Route("own-tokens"),
    "api:token-delete": Route("own-tokens"),
}


def url_patterns(patterns=None, prefix="", namespace=""):
    """(key, route) for every URL pattern, walking nested includes; the key is the qualified name."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            yield from url_patterns(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name) if pattern.name else route, route


@contextlib.contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


class Matrix:
    """One world, one client per role, and the failures collected across all checks."""

    def __init__(self, world, files):
        self.world = world
        self.failures: list[str] = []
        self.clients = {"anonymous": Client()}
        self.tokens = {}
        for role, user in world.users.items():
            self.tokens[role], key = ApiToken.issue(user, "矩阵测试")
            client = Client(headers={"Authorization": f"Bearer {key}"})  # the API sees the token,
            client.force_login(user)  # the pages the session
            self.clients[role] = client
        # One audit record per district, for the audit routes.
        self.audit = {}
        for district in DISTRICTS:
            enterprise = world.enterprises[district]
            services.update_record(enterprise, actor=world.users["admin"], legal_representative="矩阵")
            self.audit[district] = AuditRecord.objects.get(object_id=str(enterprise.pk), action="update")

        self.risk = self._risk_records()
        self.risk.update(self._signal_records())
        self.risk.update(self._duplicate_records())
        self.risk.update(self._trace_records())
        self.risk.update(self._pharmacy_records())
        self.risk.update(self._sentinel_records())
        self._package_records()
        self.jobs = self._import_jobs(files)

    def _import_jobs(self, files) -> dict:
        """A finished import job with a rejects file for two owners, for the import pages."""
        jobs = {}
        for owner in ("district", "adr_analyst"):
            rejects = files / f"{owner}-rejects.csv"
            rejects.write_text("行号,原因\n", encoding="utf-8")
            jobs[owner] = ImportJob.objects.create(
                kind="adr",
                file_name="报告.csv",
                actor=self.world.users[owner],
                status=JobStatus.DONE,
                rejects_path=str(rejects),
            )
        return jobs

    def _risk_records(self) -> dict:
        """An assistance case and a push to 卫健 per district, for the risk pages."""
        health, _created = Department.objects.get_or_create(code="health", defaults={"name": "卫健"})
        records, day = {}, datetime.date(2025, 6, 1)
        for district in DISTRICTS:
            enterprise = self.world.enterprises[district]
            common = {"enterprise": enterprise, "division_code": enterprise.division_id}
            warning = RiskWarning.objects.create(rule_code="matrix", raised_on=day, evidence={}, **common)
            records[(district, "risk.assistancecase")] = AssistanceCase.objects.create(
                warning=warning, opened_on=day, standard_days=30, deadline_days=15, due_on=day, **common
            )
            records[(district, "risk.push")] = Push.objects.create(
                department=health, tag="matrix", pushed_on=day, **common
            )
        return records

    def _trace_records(self) -> dict:
        """A trace lead per district (about the district's enterprise), for the lead pages."""
        records, moment = {}, datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)
        for i, district in enumerate(DISTRICTS):
            enterprise = self.world.enterprises[district]
            records[(district, "trace.tracelead")] = TraceLead.objects.create(
                division_code=enterprise.division_id,
                enterprise=enterprise,
                kind="duplicate_sale",
                code=f"urn:yaojian:tracecode:8000000000000000000{i}",
                found_at=moment,
                key=f"matrix{i}",
                last_scanned_at=moment,
            )
        return records

    def _signal_records(self) -> dict:
        """A run, one pair result and its signal per district (scoped to the district), for the signal pages."""
        records, day = {}, datetime.date(2025, 6, 1)
        for district in DISTRICTS:
            product = self.world.products[district]
            pair = {
                "division_code": product.division_code,
                "drug_key": f"product:{product.pk}",
                "drug_label": product.name,
                "product": product,
                "event_key": "text:皮疹",
                "event_label": "皮疹",
            }
            run = SignalRun.objects.create(division_code=product.division_code, date_from=day, date_to=day, criteria={})
            result = PairResult.objects.create(run=run, n=3, expected=1.0, meets_criteria=True, **pair)
            records[(district, "signals.signalrun")] = run
            records[(district, "signals.pairresult")] = result
            records[(district, "signals.signal")] = Signal.objects.create(
                first_run=run, latest_run=run, latest_result=result, **pair
            )
        return records

    def _duplicate_records(self) -> dict:
        """A second report per district and a pending duplicate pair with the world's report, for case work."""
        records = {}
        for district in DISTRICTS:
            first = self.world.records[(district, "adr.adrreport")]
            second = AdrReport.objects.create(
                report_number=f"ADR-{district}-2",
                enterprise=first.enterprise,
                reported_on=first.reported_on,
                reaction="皮疹",
            )
            records[(district, "casework.duplicatecandidate")] = DuplicateCandidate.objects.create(
                report_a=first, report_b=second, division_code=first.division_code, score=0.9, evidence={}
            )
        return records

    def _pharmacy_records(self) -> dict:
        """A purchase record of the district's enterprise and an alert of the district, for the pharmacy pages."""
        from yaojian.pharmacy.models import Alert, DrugClass, PurchaseRecord

        records, fever = {}, DrugClass.objects.get(code="antipyretic")
        for district in DISTRICTS:
            enterprise = self.world.enterprises[district]
            records[(district, "pharmacy.purchaserecord")] = PurchaseRecord.objects.create(
                pharmacy=enterprise,
                receipt_number=f"RX-{district}",
                sold_at=datetime.datetime(2025, 6, 1, 10, tzinfo=datetime.UTC),
                sold_on=datetime.date(2025, 6, 1),
                drug_name="布洛芬缓释胶囊",
                drug_class=fever,
                buyer_name="张三",
                buyer_id_number="11010519491231002X",
                buyer_hash=f"{district:0>64}",
            )
            records[(district, "pharmacy.alert")] = Alert.objects.create(
                division_code=enterprise.division_id,
                drug_class=fever,
                level="pharmacies",
                first_day=datetime.date(2025, 6, 1),
                last_day=datetime.date(2025, 6, 1),
                detectors=["c1"],
                points=[{"key": enterprise.pk, "label": enterprise.name, "count": 30, "detectors": {"c1": 12.0}}],
                n_points=1,
            )
        return records

    def _sentinel_records(self) -> dict:
        """A sentinel pharmacy and site per district (kept with the world's records, for the edit routes), and a
        cluster of the district's product with its response and one task."""
        from yaojian.core.identifiers import build_uscc
        from yaojian.registry.models import Enterprise
        from yaojian.sentinel.models import Cluster, Response, ResponseTask, SentinelSite

        records, day = {}, datetime.date(2025, 6, 1)
        moment = datetime.datetime(2025, 6, 1, 9, tzinfo=datetime.UTC)
        for n, district in enumerate(DISTRICTS, start=1):
            code = self.world.enterprises[district].division_id
            pharmacy = Enterprise.objects.create(
                name=f"{district}哨点药房",
                credit_code=build_uscc(code, f"6{n:07d}"),
                type="retail_pharmacy",
                division_id=code,
                address=f"{district}路{n}号",
                legal_representative="钱某",
            )
            self.world.records[(district, "sentinel.sentinelsite")] = SentinelSite.objects.create(
                enterprise=pharmacy, kind="pharmacy", watched_groups=["paediatric"], active_from=day
            )
            cluster = Cluster.objects.create(
                key=f"matrix:{district}",
                layer="rule",
                rule="product",
                product=self.world.products[district],
                districts=[code],
                division_code=code,
                first_day=day,
                last_day=day,
                detected_on=day,
                detected_at=moment,
                updated_on=day,
                case_count=3,
            )
            response = Response.objects.create(cluster=cluster, opened_at=moment, due_at=moment)
            ResponseTask.objects.create(response=response, kind="verify", due_at=moment)
            records[(district, "sentinel.cluster")] = cluster
            records[(district, "sentinel.response")] = response
        return records

    def _package_records(self) -> None:
        """The unit-of-sale packaging level of each district's drug (kept with the world's records)."""
        from yaojian.registry.models import ProductPackage

        for n, district in enumerate(DISTRICTS):
            self.world.records[(district, "registry.productpackage")] = ProductPackage.objects.create(
                product=self.world.products[district], level=0, identifier=f"89{n:05d}"
            )

    def obj(self, district, label):
        if label == "core.auditrecord":
            return self.audit[district]
        return self.world.records.get((district, label)) or self.risk[(district, label)]

    def expect(self, key, role, method, url, response, allowed: set[int]):
        if response.status_code not in allowed:
            self.failures.append(f"{key} {role} {method} {url}: 得到 {response.status_code}，应为 {sorted(allowed)}")

    # --- checks by kind ---

    def check_public(self, key, route, role):
        url = reverse(key)
        self.expect(key, role, "GET", url, self.clients[role].get(url), {200})

    def check_not_found(self, key, route, role):
        url = reverse(key)
        self.expect(key, role, "GET", url, self.clients[role].get(url), {404})

    def check_api_list(self, key, route, role):
        url = reverse(key)
        response = self.clients[role].get(url, {"limit": 500})
        expected = self._read_status(role, route.label)
        self.expect(key, role, "GET", url, response, {expected})
        if expected == 200 and response.status_code == 200:
            id_field = "seq" if route.label == "core.auditrecord" else "id"
            world_ids = {getattr(self.obj(d, route.label), id_field): d for d in DISTRICTS}
            seen = {world_ids[item[id_field]] for item in response.json()["items"] if item[id_field] in world_ids}
            if seen != REACH[role]:
                self.failures.append(f"{key} {role} 列表包含 {sorted(seen)}，应为 {sorted(REACH[role])}")

    def check_api_detail(self, key, route, role):
        for district in DISTRICTS:
            obj = self.obj(district, route.label)
            url = reverse(key, kwargs={"seq": obj.seq} if route.label == "core.auditrecord" else {"pk": obj.pk})
            self.expect(
                key, role, "GET", url, self.clients[role].get(url), {self._read_status(role, route.label, district)}
            )

    def check_api_audit_object(self, key, route, role):
        for district in DISTRICTS:
            enterprise = self.world.enterprises[district]
            url = reverse(key, kwargs={"object_type": "registry.enterprise", "object_id": str(enterprise.pk)})
            response = self.clients[role].get(url)
            expected = self._read_status(role, route.label)
            self.expect(key, role, "GET", url, response, {expected})
            if response.status_code == 200 and response.json()["count"] != (1 if district in REACH[role] else 0):
                self.failures.append(f"{key} {role} {district}: 审计记录越出辖区")

    def check_api_create(self, key, route, role):
        model = apps.get_model(route.label)
        source = self.world.records[("gulou", route.label)]
        writable = {f.name for f in model._meta.concrete_fields if f.editable and not f.primary_key}
        payload = {name: value for name, value in dump(source).items() if name in writable}
        url = reverse(key)
        with rolled_back():
            count, audits = model.objects.count(), AuditRecord.objects.count()
            response = self.clients[role].post(url, payload, content_type="application/json")
            expected = self._write_status(role, route.label)
            # An allowed copy of an existing record is refused for its duplicate natural key (422).
            self.expect(key, role, "POST", url, response, {201, 422} if expected == 200 else {expected})
            if expected != 200:
                self._unchanged(key, role, url, model.objects.count() == count, audits)

    def check_api_update(self, key, route, role):
        edit = EDITS[route.label]
        for district in DISTRICTS:
            obj = self.world.records[(district, route.label)]
            url = reverse(key, kwargs={"pk": obj.pk})
            with rolled_back():
                audits = AuditRecord.objects.count()
                response = self.clients[role].patch(url, edit, content_type="application/json")
                expected = self._write_status(role, route.label, district)
                self.expect(key, role, "PATCH", url, response, {expected})
                if expected != 200:
                    current = dump(type(obj).objects.get(pk=obj.pk))
                    self._unchanged(key, role, url, all(current[n] == dump(obj)[n] for n in edit), audits)

    def check_api_delete(self, key, route, role):
        for district in DISTRICTS:
            obj = self.world.records[(district, route.label)]
            url = reverse(key, kwargs={"pk": obj.pk})
            with rolled_back():
                audits = AuditRecord.objects.count()
                response = self.clients[role].delete(url)
                expected = self._write_status(role, route.label, district)
                # Records that others still point at are kept (409) even for those allowed to delete.
                self.expect(key, role, "DELETE", url, response, {204, 409} if expected == 200 else {expected})
                if expected != 200:
                    self._unchanged(key, role, url, type(obj).objects.filter(pk=obj.pk).exists(), audits)

    def check_own_tokens(self, key, route, role):
        client, logged_in = self.clients[role], role != "anonymous"
        if key == "api:token-list":
            url = reverse(key)
            response = client.get(url)
            self.expect(key, role, "GET", url, response, {200 if logged_in else 401})
            if response.status_code == 200 and {t["id"] for t in response.json()} != {self.tokens[role].pk}:
                self.failures.append(f"{key} {role}: 列出了他人的令牌")
        elif key == "api:token-create":
            url = reverse(key)
            with rolled_back():
                response = client.post(url, {"name": "矩阵"}, content_type="application/json")
                self.expect(key, role, "POST", url, response, {201 if logged_in else 401})
        else:
            for owner, token in self.tokens.items():
                url = reverse(key, kwargs={"pk": token.pk})
                with rolled_back():
                    response = client.delete(url)
                    expected = 401 if not logged_in else 204 if owner == role else 404
                    self.expect(key, role, "DELETE", url, response, {expected})
                    if expected != 204 and not ApiToken.objects.filter(pk=token.pk).exists():
                        self.failures.append(f"{key} {role} {url}: 吊销了他人的令牌")

    def check_page_public(self, key, route, role):
        url = reverse(key)
        self.expect(key, role, "GET", url, self.clients[role].get(url), {200} if role == "anonymous" else {200, 302})

    def check_page_logout(self, key, route, role):
        client = Client()  # its own client: logging out must not end the matrix's session
        if role != "anonymous":
            client.force_login(self.world.users[role])
        url = reverse(key)
        self.expect(key, role, "POST", url, client.post(url), {302})

    def check_page_login_required(self, key, route, role):
        url = reverse(key)
        self._page(key, role, url, 200)

    def check_page_list(self, key, route, role):
        url = reverse(key)
        response = self._page(key, role, url, self._read_status(role, route.label))
        if response.status_code == 200 and role != "anonymous":
            # The world's names and numbers carry their district's key (liangxi测试药业有限公司, JC-liangxi-1 …).
            html = response.content.decode()
            leaked = sorted(d for d in DISTRICTS if d not in REACH[role] and d in html)
            if leaked:
                self.failures.append(f"{key} {role} 列表页显示了辖区外的记录：{leaked}")

    def check_page_detail(self, key, route, role):
        for district in DISTRICTS:
            obj = self.obj(district, route.parent or route.label)
            url = reverse(key, args=[obj.seq if route.label == "core.auditrecord" else obj.pk])
            self._page(key, role, url, self._read_status(role, route.label, district))

    def check_page_tab(self, key, route, role):
        for district in DISTRICTS:
            for tab, label in TABS.items():
                url = reverse(key, args=[self.world.enterprises[district].pk, tab])
                expected = self._read_status(role, route.label, district)
                if expected == 200 and role not in READERS[label]:
                    expected = 403  # a tab of records the role may not read
                self._page(key, role, url, expected)

    def check_page_add(self, key, route, role):
        self._page_write(key, role, reverse(key), route.label, None, self._write_status(role, route.label))

    def check_page_child_add(self, key, route, role):
        for district in DISTRICTS:
            parent = self.world.records[(district, route.parent)]
            expected = self._write_status(role, route.label)
            if expected == 200 and district not in REACH[role]:
                expected = 404
            self._page_write(key, role, reverse(key, args=[parent.pk]), route.label, None, expected)

    def check_page_edit(self, key, route, role):
        for district in DISTRICTS:
            obj = self.world.records[(district, route.label)]
            expected = self._write_status(role, route.label, district)
            self._page_write(key, role, reverse(key, args=[obj.pk]), route.label, obj, expected)

    def check_page_delete(self, key, route, role):
        for district in DISTRICTS:
            obj = self.world.records[(district, route.label)]
            expected = self._write_status(role, route.label, district)
            self._page_write(key, role, reverse(key, args=[obj.pk]), route.label, obj, expected, delete=True)

    def check_page_case(self, key, route, role):
        """An assistance case: readers see it; only writers record steps (an empty step form answers 400)."""
        self.check_page_detail(key, route, role)
        for district in DISTRICTS:
            case = self.obj(district, route.label)
            url = reverse(key, args=[case.pk])
            with rolled_back():
                audits = AuditRecord.objects.count()
                response = self.clients[role].post(url, {"form": "step"})
                if role == "anonymous":
                    self._login_redirect(key, role, "POST", url, response)
                    continue
                expected = self._read_status(role, route.label, district)
                if expected == 200:
                    expected = 400 if role in WRITERS[route.label] else 403
                self.expect(key, role, "POST", url, response, {expected})
                if expected != 400:
                    self._unchanged(key, role, url, not case.steps.exists(), audits)

    def check_page_review(self, key, route, role):
        """A duplicate pair: readers see it; only writers review it (an empty review step answers 400)."""
        self._check_empty_post(key, route, role, state="status")

    def check_page_action(self, key, route, role):
        """A POST-only action (run a job, record a decision): writers are served, others refused unchanged."""
        url = reverse(key)
        with rolled_back():
            audits = AuditRecord.objects.count()
            response = self.clients[role].post(url, {})
            if role == "anonymous":
                self._login_redirect(key, role, "POST", url, response)
                return
            expected = self._write_status(role, route.label)
            # Served: a finished job goes on to its page (302), an empty decision form answers 400.
            self.expect(key, role, "POST", url, response, {302, 400} if expected == 200 else {expected})
            if expected != 200:
                self._unchanged(key, role, url, True, audits)

    def check_page_term_edit(self, key, route, role):
        """A term of the national reaction dictionary (no jurisdiction): writers edit any term."""
        term, _created = ReactionTerm.objects.get_or_create(code="MATRIX-1", defaults={"name": "矩阵测试术语"})
        url = reverse(key, args=[term.pk])
        self._page_write(key, role, url, route.label, term, self._write_status(role, route.label))

    def check_page_push_ack(self, key, route, role):
        """签收: only the department a push went to acknowledges it."""
        for district in DISTRICTS:
            push = self.obj(district, route.label)
            url = reverse(key, args=[push.pk])
            with rolled_back():
                response = self.clients[role].post(url)
                if role == "anonymous":
                    self._login_redirect(key, role, "POST", url, response)
                    continue
                expected = self._read_status(role, route.label, district)
                if expected == 200:
                    expected = 302 if role == "partner" else 403
                self.expect(key, role, "POST", url, response, {expected})
                push.refresh_from_db()
                if expected != 302 and push.acknowledged_at is not None:
                    self.failures.append(f"{key} {role} {url}: 非推送对象签收了推送")

    def check_page_config(self, key, route, role):
        """Model parameters: regulators read them, only the administrator publishes a version."""
        url = reverse(key)
        self._page(key, role, url, self._read_status(role, route.label))
        model = apps.get_model(route.label)
        with rolled_back():
            count, audits = model.objects.count(), AuditRecord.objects.count()
            response = self.clients[role].post(url, {})
            if role == "anonymous":
                self._login_redirect(key, role, "POST", url, response)
                return
            self.expect(key, role, "POST", url, response, {400 if role in WRITERS[route.label] else 403})
            self._unchanged(key, role, url, model.objects.count() == count, audits)

    def check_page_upload(self, key, route, role):
        """The upload page: a refused role's upload creates no job."""
        url = reverse(key)
        self._page(key, role, url, self._read_status(role, route.label))
        if role != "anonymous" and role not in READERS[route.label]:
            count, audits = ImportJob.objects.count(), AuditRecord.objects.count()
            self.expect(key, role, "POST", url, self.clients[role].post(url, {"kind": "adr"}), {403})
            self._unchanged(key, role, url, ImportJob.objects.count() == count, audits)

    def check_page_trace_ingest(self, key, route, role):
        """The trace upload page: only writers open it; a refused upload stores no event."""
        url = reverse(key)
        self._page(key, role, url, self._write_status(role, route.label))
        if role != "anonymous" and role not in WRITERS[route.label]:
            store = TraceStore()
            before = store.event_files()
            upload = SimpleUploadedFile("events.csv", (DATA / "trace_dataset.csv").read_bytes())
            self.expect(key, role, "POST", url, self.clients[role].post(url, {"file": upload}), {403})
            if store.event_files() != before:
                self.failures.append(f"{key} {role} {url}: 被拒绝的上传写入了追溯事件")

    def check_page_job(self, key, route, role):
        for owner, job in self.jobs.items():
            expected = self._read_status(role, route.label)
            if expected == 200 and role not in (owner, "admin"):
                expected = 404  # someone else's job
            self._page(key, role, reverse(key, args=[job.pk]), expected)

    def check_page_template(self, key, route, role):
        for kind, spec in all_specs().items():
            label = spec.model._meta.label_lower
            if label not in WRITERS:
                self.failures.append(f"{key}: 导入类型 {kind}（{label}）未在矩阵中分类")
                continue
            expected = self._read_status(role, route.label)
            if expected == 200 and role not in WRITERS[label]:
                expected = 404  # a template of a kind the role may not add
            for fmt in ("csv", "xlsx"):
                self._page(key, role, reverse(key, kwargs={"kind": kind, "fmt": fmt}), expected)

    def check_page_reveal(self, key, route, role):
        """查看明文: regulators of the record's area only (not the administrator); a refused look-up leaves no trace."""
        for district in DISTRICTS:
            record = self.obj(district, route.label)
            url = reverse(key, args=[record.pk])
            revealer = role in {"province", "city", "district"}
            expected = self._read_status(role, route.label, district) if revealer or role == "anonymous" else 403
            self._page(key, role, url, expected)
            with rolled_back():
                audits = AuditRecord.objects.count()
                response = self.clients[role].post(url, {"reason": "矩阵测试原因"})
                if role == "anonymous":
                    self._login_redirect(key, role, "POST", url, response)
                    continue
                self.expect(key, role, "POST", url, response, {expected})
                if expected != 200 and AuditRecord.objects.count() != audits:
                    self.failures.append(f"{key} {role} {url}: 被拒绝的查看写入了审计记录")

    def check_page_alert(self, key, route, role):
        """A pharmacy alert or a response: readers see it; only writers act on it (an empty form answers 400)."""
        self._check_empty_post(key, route, role)

    def _check_empty_post(self, key, route, role, state=None):
        """Detail page plus an empty POST to it: 400 for writers, refused for the rest; a refusal writes nothing
        (no audit record, and ``state``, a field name, unchanged; without ``state`` even a 400 writes no audit)."""
        self.check_page_detail(key, route, role)
        for district in DISTRICTS:
            obj = self.obj(district, route.label)
            url = reverse(key, args=[obj.pk])
            with rolled_back():
                audits = AuditRecord.objects.count()
                response = self.clients[role].post(url, {})
                if role == "anonymous":
                    self._login_redirect(key, role, "POST", url, response)
                    continue
                expected = self._read_status(role, route.label, district)
                if expected == 200:
                    expected = 400 if role in WRITERS[route.label] else 403
                self.expect(key, role, "POST", url, response, {expected})
                if state is None:
                    self._unchanged(key, role, url, True, audits)
                elif expected != 400:
                    unchanged = getattr(type(obj).objects.get(pk=obj.pk), state) == getattr(obj, state)
                    self._unchanged(key, role, url, unchanged, audits)

    def check_api_submit(self, key, route, role):
        """A pharmacy's batch submission: refused (401/403) to everyone who is not a pharmacy's account."""
        model = apps.get_model(route.label)
        url = reverse(key)
        with rolled_back():
            count, audits = model.objects.count(), AuditRecord.objects.count()
            response = self.clients[role].post(url, {"records": []}, content_type="application/json")
            expected = self._write_status(role, route.label)
            self.expect(key, role, "POST", url, response, {expected})
            self._unchanged(key, role, url, model.objects.count() == count, audits)

    def _page_write(self, key, role, url, label, obj, expected: int, delete=False):
        """GET the form; POST to it as a refused role (an empty form, or the delete confirmation)."""
        self._page(key, role, url, expected)
        if expected == 200 and not delete:
            return  # the allowed form's validation is the page's own test; the matrix checks refusals
        model = apps.get_model(label)
        with rolled_back():
            count, audits = model.objects.count(), AuditRecord.objects.count()
            before = dump(obj) if obj is not None else None
            response = self.clients[role].post(url, {})
            if role == "anonymous":
                self._login_redirect(key, role, "POST", url, response)
            elif expected == 200:  # a confirmed delete goes on to a page (the list, or back when protected)
                self.expect(key, role, "POST", url, response, {302})
                return
            else:
                self.expect(key, role, "POST", url, response, {expected})
            current = model.objects.filter(pk=obj.pk).first() if obj is not None else None
            unchanged = model.objects.count() == count and (obj is None or (current and dump(current) == before))
            self._unchanged(key, role, url, unchanged, audits)

    def _login_redirect(self, key, role, method, url, response):
        if response.status_code != 302 or not response["Location"].startswith(reverse("login")):
            self.failures.append(f"{key} {role} {method} {url}: 得到 {response.status_code}，应转到登录页")

    def _page(self, key, role, url, expected: int) -> HttpResponse:
        response = self.clients[role].get(url)
        if role == "anonymous":  # pages send strangers to the login page (the API answers 401)
            self._login_redirect(key, role, "GET", url, response)
        else:
            self.expect(key, role, "GET", url, response, {expected})
        return response

    # --- expectations ---

    def _read_status(self, role, label, district=None) -> int:
        if role == "anonymous":
            return 401
        if role not in READERS[label]:
            return 403
        return 200 if district is None or district in REACH[role] else 404

    def _write_status(self, role, label, district=None) -> int:
        if role == "anonymous":
            return 401
        if role not in WRITERS[label]:
            return 403
        return 200 if district is None or district in REACH[role] else 404

    def _unchanged(self, key, role, url, record_unchanged: bool, audits_before: int):
        if not record_unchanged or AuditRecord.objects.count() != audits_before:
            self.failures.append(f"{key} {role} {url}: 被拒绝的写操作改变了数据或写入了审计记录")


def test_every_url_pattern_is_classified(db):
    keys = {key for key, _route in url_patterns()}
    unclassified = sorted(f"{key}（{route}）" for key, route in url_patterns() if key not in ROUTES)
    assert not unclassified, "以下 URL 未在权限矩阵中分类：\n" + "\n".join(unclassified)
    stale = sorted(set(ROUTES) - keys)
    assert not stale, "权限矩阵中的以下条目已没有对应 URL：\n" + "\n".join(stale)


def test_every_dossier_tab_is_classified():
    assert {tab.name for tab in DOSSIER_TABS} == set(TABS), "一企一档的标签页与矩阵中的 TABS 不一致"


def test_role_route_matrix(world, tmp_path):
    matrix = Matrix(world, tmp_path)
    for key, _route in url_patterns():
        route = ROUTES.get(key)
        if route is None:
            continue  # reported by test_every_url_pattern_is_classified
        check = getattr(matrix, "check_" + route.kind.replace("-", "_"))
        for role in ROLES:
            check(key, route, role)
    assert not matrix.failures, f"{len(matrix.failures)} 项不符合预期：\n" + "\n".join(matrix.failures)
