"""Trace pages 药品追溯: code history, recall reach (with the recall notice list), batch flows, stock by holder,
the upload page, and the public code query 公众查询 that needs no login.

Jurisdiction rule 辖区规则 (the event store has no division column, so it is decided per party): a regulator sees an
event, a holder or a flow end when the party is an enterprise of the registry inside the jurisdiction
(``access.scoped`` over Enterprise by 统一社会信用代码). Events none of whose parties is such an enterprise are left
out and counted; holders and flow ends outside are shown only in aggregate as 辖区外单位. The administrator
(nationwide) sees everything, including parties that are not registry enterprises (GS1 locations).

The public page shows only what NMPAB/T 1009-2020 lets a consumer see: product, approval number, specification,
manufacturer, batch, production and expiry dates, and whether the pack has one sale record or more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views import View
from openpyxl import Workbook

from yaojian.core import access
from yaojian.registry.choices import ProductCategory
from yaojian.registry.models import Batch, Enterprise, Product
from yaojian.registry.packaging import identifier_levels

from .codes import PRODUCT_ID_LENGTH
from .forms import BatchForm, CodeForm, HolderForm, UploadForm
from .ingest import ingest_bytes, record_ingest
from .models import TraceEvent
from .queries import STATE_LABELS, Queries
from .store import PARTY_URN, TRACE_CODE_URN, Store

CHINA = dt.timezone(dt.timedelta(hours=8))
STEP_LABELS = {
    "commissioning": "赋码",
    "packing": "包装关联",
    "unpacking": "拆包",
    "shipping": "出库",
    "receiving": "入库",
    "retail_selling": "零售",
    "dispensing": "发药",
    "destroying": "销毁",
    "decommissioning": "注销",
}
OUTSIDE = "辖区外单位"
PARTY_COLUMNS = ("biz_location", "source_owner", "destination_owner")  # the parties of an event row
SALE_CLASSES = {0: "暂无销售信息", 1: "仅有1次销售信息"}


def china_time(micros: int | None) -> str:
    if micros is None:
        return ""
    return dt.datetime.fromtimestamp(micros / 1e6, CHINA).strftime("%Y-%m-%d %H:%M:%S")


def step_label(row: dict) -> str:
    if row.get("disposition") == "returned":
        return "退货入库"
    if row.get("disposition") == "partially_dispensed":
        return "拆零发药"
    return STEP_LABELS.get(row.get("biz_step") or "", row.get("biz_step") or row.get("event_type") or "")


class Parties:
    """Names and visibility of the parties a page shows, resolved in one scoped query."""

    def __init__(self, user, urns):
        self.nationwide = access.jurisdiction_prefix(user) is None
        codes = {u[len(PARTY_URN) :] for u in urns if u and u.startswith(PARTY_URN)}
        known = Enterprise.objects.filter(credit_code__in=codes)
        self.names = dict(known.values_list("credit_code", "name"))
        self.visible = set(access.scoped(known, user).values_list("credit_code", flat=True))

    def sees(self, urn: str | None) -> bool:
        if not urn:
            return False
        if urn.startswith(PARTY_URN):
            return urn[len(PARTY_URN) :] in self.visible
        return self.nationwide

    def name(self, urn: str | None) -> str:
        if not urn:
            return ""
        if not self.sees(urn):
            return OUTSIDE
        code = urn[len(PARTY_URN) :] if urn.startswith(PARTY_URN) else None
        return self.names.get(code, code) if code else urn


def queries() -> Queries:
    return Queries(None, settings.YAOJIAN_TRACE_ENGINE)


class TraceView(LoginRequiredMixin, View):
    """A trace page: the role must hold ``action`` on trace events (``trace.traceevent`` in core.access)."""

    action = access.VIEW

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not access.has_perm(request.user, TraceEvent, self.action):
            raise PermissionDenied("无权访问药品追溯")
        return super().dispatch(request, *args, **kwargs)


class CodeHistoryView(TraceView):
    """追溯码历史: every event of a code, through its case and pallet, within the jurisdiction rule."""

    def get(self, request):
        form = CodeForm(request.GET or None)
        context = {"form": form, "rows": None}
        if form.is_valid():
            rows = queries().history(form.cleaned_data["code"])
            parties = Parties(request.user, {r[k] for r in rows for k in PARTY_COLUMNS})
            shown = [r for r in rows if any(parties.sees(r[k]) for k in PARTY_COLUMNS)]
            for r in shown:
                r["time"], r["step"], r["where"] = china_time(r["tus"]), step_label(r), parties.name(r["biz_location"])
                r["source"], r["target"] = parties.name(r["source_owner"]), parties.name(r["destination_owner"])
            context |= {"rows": shown, "hidden": len(rows) - len(shown), "code": form.cleaned_data["code"]}
        return render(request, "trace/code.html", context)


def _reach(user, rows: list[dict]) -> tuple[list[dict], dict]:
    """Recall rows by holder with names; holders outside the jurisdiction folded into one line per state."""
    parties = Parties(user, {r["holder"] for r in rows})
    shown, outside = [], {}
    for r in rows:
        if parties.sees(r["holder"]):
            code = r["holder"][len(PARTY_URN) :] if r["holder"].startswith(PARTY_URN) else ""
            label, time = STATE_LABELS[r["state"]], china_time(r["last_tus"])
            shown.append(
                r | {"name": parties.name(r["holder"]), "credit_code": code, "state_label": label, "time": time}
            )
        else:
            outside[STATE_LABELS[r["state"]]] = outside.get(STATE_LABELS[r["state"]], 0) + r["units"]
    return shown, outside


ACTIVE_STATES = ("held", "in_transit", "partial")


class RecallView(TraceView):
    """召回范围: who now holds units of a batch, with quantities; ``?export=xlsx`` gives the recall notice list."""

    def get(self, request):
        form = BatchForm(request.GET or None)
        context = {"form": form, "rows": None}
        if form.is_valid():
            lot, product = form.cleaned_data["lot"], form.cleaned_data["product"] or None
            rows, outside = _reach(request.user, queries().recall(lot, product))
            if request.GET.get("export") == "xlsx":
                return notice_list(lot, [r for r in rows if r["state"] in ACTIVE_STATES])
            active = [r for r in rows if r["state"] in ACTIVE_STATES]
            context |= {
                "rows": active,
                "removed": [r for r in rows if r["state"] not in ACTIVE_STATES],
                "outside": outside,
                "total": sum(r["units"] for r in active),
                "lot": lot,
            }
        return render(request, "trace/recall.html", context)


def notice_list(lot: str, rows: list[dict]) -> HttpResponse:
    """召回通知清单 (xlsx): one line per holder to notify."""
    book = Workbook()
    sheet = book.active
    sheet.title = "召回通知清单"
    sheet.append(["序号", "持有单位", "统一社会信用代码", "状态", "数量（最小包装）", "最近事件时间", "批号"])
    for i, r in enumerate(rows, 1):
        sheet.append([i, r["name"], r["credit_code"], r["state_label"], r["units"], r["time"], lot])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="recall-{lot}.xlsx"'
    return response


class FlowsView(TraceView):
    """批次流向 Sankey: manufacturer → wholesalers → retail/hospital → sold/dispensed/destroyed."""

    terminals = {"@sold": "已零售", "@dispensed": "已发药", "@destroyed": "已销毁", "@partial": "拆零发药"}

    def get(self, request):
        form = BatchForm(request.GET or None)
        context = {"form": form, "links": None}
        if form.is_valid():
            flows = queries().flows(form.cleaned_data["lot"], form.cleaned_data["product"] or None)
            parties = Parties(request.user, {r[k] for r in flows for k in ("source", "target")})
            links: dict[tuple[str, str], int] = {}
            for r in flows:
                source = parties.name(r["source"])
                target = self.terminals.get(r["target"]) or parties.name(r["target"])
                if source != target:  # flows inside the outside world fold away
                    links[(source, target)] = links.get((source, target), 0) + r["units"]
            links = _acyclic(links)
            nodes = sorted({n for pair in links for n in pair})
            context |= {
                "links": [{"source": s, "target": t, "value": v} for (s, t), v in sorted(links.items())],
                "chart_json": json.dumps(
                    {
                        "nodes": [{"name": n} for n in nodes],
                        "links": [{"source": s, "target": t, "value": v} for (s, t), v in links.items()],
                    },
                    ensure_ascii=False,
                ),  # fmt: skip
            }
        return render(request, "trace/flows.html", context)


def _acyclic(links: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    """A Sankey must not loop: a link closing a cycle (goods sent back up the chain) is left out, larger flows first."""
    kept: dict[tuple[str, str], int] = {}
    edges: dict[str, set[str]] = {}

    def reaches(a: str, b: str) -> bool:
        stack, seen = [a], set()
        while stack:
            node = stack.pop()
            if node == b:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(edges.get(node, ()))
        return False

    for (s, t), v in sorted(links.items(), key=lambda item: -item[1]):
        if not reaches(t, s):
            kept[(s, t)] = v
            edges.setdefault(s, set()).add(t)
    return kept


class StockView(TraceView):
    """库存: units a holder now has (or has in transit to it), by product identifier and lot."""

    def get(self, request):
        form = HolderForm(request.GET or None)
        context = {"form": form, "rows": None}
        if form.is_valid():
            holder = form.cleaned_data["holder"]
            parties = Parties(request.user, {holder})
            if not parties.sees(holder):
                raise Http404("未找到或无权访问")
            rows = queries().stock(holder)
            for r in rows:
                r["state_label"] = STATE_LABELS[r["state"]]
            context |= {"rows": rows, "holder_name": parties.name(holder), "total": sum(r["units"] for r in rows)}
        return render(request, "trace/stock.html", context)


class IngestView(TraceView):
    """事件导入: upload an EPCIS document, a trace data set CSV or Parquet; accepted/duplicate/refused with reasons."""

    action = access.ADD

    def get(self, request):
        return render(request, "trace/ingest.html", {"form": UploadForm()})

    def post(self, request):
        form = UploadForm(request.POST, request.FILES)
        context = {"form": form}
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            report = ingest_bytes(data, upload.name, Store(), registry=identifier_levels())
            record_ingest(report, hashlib.sha256(data).hexdigest(), request.user)
            context["report"] = report
        return render(request, "trace/ingest.html", context, status=200 if form.is_valid() else 400)


def _product(code: str) -> Product | None:
    """The registry drug of a 药品追溯码 by its 药品标识码 (the registry's packaging levels 药品包装规格)."""
    if not code.startswith(TRACE_CODE_URN):
        return None
    product_id = code[len(TRACE_CODE_URN) : len(TRACE_CODE_URN) + PRODUCT_ID_LENGTH]
    return (
        Product.objects.filter(packages__identifier=product_id, packages__is_active=True, category=ProductCategory.DRUG)
        .select_related("manufacturer", "holder")
        .first()
    )


def public_answer(code: str) -> dict | None:
    """What a consumer may read about a pack (NMPAB/T 1009-2020): nothing about who sold it."""
    found = queries().public(code)
    if found is None:
        return None
    product = _product(code)
    batch = product and Batch.objects.filter(product=product, batch_number=found["lot"] or "").first()
    maker = product and (product.manufacturer or product.holder)
    return {
        "product": product.name if product else "",
        "approval_number": product.approval_number if product else "",
        "specification": product.specification if product else "",
        "manufacturer": maker.name if maker else "",
        "lot": found["lot"] or "",
        "manufactured_on": batch.manufactured_on if batch else None,
        "expiry": found["expiry"] or (batch.expires_on.isoformat() if batch and batch.expires_on else ""),
        "sales": SALE_CLASSES.get(found["sales"], "有2次及以上销售信息"),
        "warn": found["sales"] >= 2,
    }


def public_query(request):
    """公众查询 /trace/query/: no login; the code's product and batch facts and its sale-count class only."""
    form = CodeForm(request.GET or None)
    context = {"form": form, "answer": None, "asked": form.is_bound}
    if form.is_valid():
        context["answer"] = public_answer(form.cleaned_data["code"])
    return render(request, "trace/public_query.html", context)
