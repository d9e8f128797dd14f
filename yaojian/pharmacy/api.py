"""Purchase-record API 实名购药接口: a pharmacy's program submits batches; readers page through masked records.

``POST /api/pharmacy/purchases/`` with ``Authorization: Bearer <令牌>`` of a retail pharmacy's account: the batch
is written for that pharmacy only, all or nothing, upserted by (小票号, 行号) so a retried call is harmless;
a refused batch answers 422 with every error's row (1-based position in ``records``), field and reason.
"""

import datetime

from django.db.models import QuerySet
from ninja import Field, Query, Router, Schema, Status

from yaojian.core import access
from yaojian.core.api import ERRORS, WRITE_ERRORS, ErrorOut, _page_schema, _query_schema, filtered, page
from yaojian.core.api_auth import api_auth

from . import services
from .filtersets import PurchaseRecordFilterSet
from .models import PurchaseRecord, Source

router = Router(tags=["实名购药记录"])


class PurchaseIn(Schema):
    receipt_number: str = Field(description="小票号")
    line: int = Field(1, description="行号（同一小票内从1起）")
    sold_at: datetime.datetime = Field(description="销售时间")
    drug_name: str = Field(description="药品名称")
    drug_class: str = Field("", description="监测类别代码或名称（缺省按药品名称识别）")
    quantity: int = Field(1, description="数量")
    buyer_name: str = Field(description="购药人姓名（加密存储）")
    buyer_id_number: str = Field(description="购药人身份证号（加密存储）")


class BatchIn(Schema):
    records: list[PurchaseIn] = Field(description="购药记录，最多5000条", max_length=5000)


class BatchOut(Schema):
    created: int = Field(description="新增条数")
    updated: int = Field(description="更新条数")
    unchanged: int = Field(description="未变条数（重复上报）")


class RowErrorOut(Schema):
    row: int = Field(description="第几条（从1起）")
    column: str = Field(description="字段")
    reason: str = Field(description="原因")


class BatchRejected(ErrorOut):
    errors: list[RowErrorOut] = Field(description="逐条错误")


class PurchaseOut(Schema):
    id: int
    pharmacy_id: int = Field(description="药店")
    division_code: str = Field(description="行政区划代码")
    receipt_number: str = Field(description="小票号")
    line: int = Field(description="行号")
    sold_at: datetime.datetime = Field(description="销售时间")
    drug_name: str = Field(description="药品名称")
    drug_class: str = Field(description="监测类别代码")
    quantity: int = Field(description="数量")
    buyer_name: str = Field(description="购药人姓名（脱敏）")
    buyer_id_number: str = Field(description="购药人身份证号（脱敏）")


def dump_purchase(record: PurchaseRecord) -> dict:
    """A record as the API returns it: the buyer masked, the keyed hash left out (it would link buyers)."""
    return {
        "id": record.pk,
        "pharmacy_id": record.pharmacy_id,
        "division_code": record.division_code,
        "receipt_number": record.receipt_number,
        "line": record.line,
        "sold_at": record.sold_at,
        "drug_name": record.drug_name,
        "drug_class": record.drug_class.code,
        "quantity": record.quantity,
        "buyer_name": record.buyer_name_masked,
        "buyer_id_number": record.buyer_id_number_masked,
    }


PurchaseQuery = _query_schema("Purchase", PurchaseRecordFilterSet)
PurchasePage = _page_schema("Purchase", PurchaseOut)


def _records(user) -> QuerySet:
    return access.scoped(PurchaseRecord.objects.select_related("drug_class"), user, access.VIEW)


@router.get(
    "/pharmacy/purchases/",
    auth=api_auth(PurchaseRecord, access.VIEW),
    response={200: PurchasePage, **ERRORS},
    url_name="purchaserecord-list",
    summary="实名购药记录列表（脱敏）",
)
def list_purchases(request, query: Query[PurchaseQuery]):
    return page(filtered(request, _records(request.auth), PurchaseRecordFilterSet), query, dump_purchase)


@router.post(
    "/pharmacy/purchases/",
    auth=api_auth(PurchaseRecord, access.ADD),
    response={200: BatchOut, **WRITE_ERRORS, 422: BatchRejected},
    url_name="purchaserecord-submit",
    summary="药店上报实名购药记录（批量，幂等）",
)
def submit_purchases(request, payload: BatchIn):
    pharmacy = services.pharmacy_of(request.auth)
    rows = [(n, item.dict()) for n, item in enumerate(payload.records, start=1)]
    try:
        result = services.submit_records(request.auth, pharmacy, rows, source=Source.API)
    except services.SubmissionRejected as exc:
        return Status(422, {"detail": str(exc), "errors": [e.as_dict() for e in exc.errors]})
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
