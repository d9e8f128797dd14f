"""API building blocks 接口构件: generic CRUD for regulated records, and the audit trail 审计记录 endpoints.

``register_crud`` gives a model its five endpoints (list, retrieve, create, update, delete),
each judged by the same rules as the pages: ``access.has_perm`` decides the action (403),
``access.scoped`` narrows the rows (out of scope → 404), and writes go through
``core.services`` so that the audit trail records them with the request id.
"""

import datetime
import decimal
from typing import Any

import django_filters
from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import create_model

from . import access, services
from .api_auth import LoginSession, api_auth, issue_token, revoke_token
from .crypto import EncryptedTextField
from .models import ApiToken, AuditRecord, Division, RegulatedModel
from .views_generic import narrow_choices

PAGE_SIZE, PAGE_SIZE_MAX = 50, 500


class ErrorOut(Schema):
    detail: str = Field(description="错误说明")


class ValidationErrorOut(ErrorOut):
    errors: dict[str, list[str]] = Field(description="各字段的校验错误")


ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
WRITE_ERRORS = ERRORS | {409: ErrorOut, 422: ValidationErrorOut}


# --- schemas derived from the model ---------------------------------------------------------


def _python_type(field: models.Field) -> type:
    if field.is_relation:
        return _python_type(field.target_field)
    if isinstance(field, models.BooleanField):
        return bool
    if isinstance(field, models.IntegerField):  # also the auto and positive integer fields
        return int
    if isinstance(field, models.DecimalField):
        return decimal.Decimal
    if isinstance(field, models.DateTimeField):  # before DateField: it is a subclass
        return datetime.datetime
    if isinstance(field, models.DateField):
        return datetime.date
    if isinstance(field, models.JSONField):
        return Any
    return str


def _description(field: models.Field) -> str:
    text = str(field.verbose_name)
    if field.choices:
        text += "：" + "；".join(f"{value}={label}" for value, label in field.choices)
    if isinstance(field, EncryptedTextField):
        text += "（加密存储，接口仅返回脱敏值）"
    return text


def masked_value(model: type[models.Model], field: models.Field, value) -> str:
    """Masked form of an encrypted personal-data value 个人信息脱敏 (the model's ``<name>_masked``)."""
    if not value:
        return ""
    if str(value).startswith("已加密#"):
        return value  # the audit trail keeps only a fingerprint (core.audit.snapshot)
    holder = model(**{field.attname: value})
    return getattr(holder, f"{field.name}_masked", "***")


def _writable(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.editable and not f.primary_key]


def _required(field: models.Field) -> bool:
    return not (field.has_default() or field.blank or field.null)


def _out_schema(model):
    fields: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        kind = _python_type(field)
        if field.null and not isinstance(field, EncryptedTextField):
            kind = kind | None
        fields[field.name] = (kind, Field(description=_description(field)))
        if field.choices:
            fields[f"{field.name}_display"] = (str, Field(description=f"{field.verbose_name}（名称）"))
    return create_model(f"{model.__name__}Out", __base__=Schema, **fields)


def _in_schema(model, *, partial: bool):
    fields: dict[str, Any] = {}
    for field in _writable(model):
        kind, description = _python_type(field), _description(field)
        if _required(field) and not partial:
            fields[field.name] = (kind, Field(description=description))
        else:
            fields[field.name] = (kind | None, Field(None, description=description))
    suffix = "Patch" if partial else "Create"
    return create_model(f"{model.__name__}{suffix}", __base__=Schema, **fields)


def _query_schema(name: str, filterset: type[django_filters.FilterSet]):
    """Paging plus the FilterSet's filters, so that OpenAPI documents them (the FilterSet parses them)."""
    fields: dict[str, Any] = {
        "limit": (int, Field(PAGE_SIZE, ge=1, le=PAGE_SIZE_MAX, description="每页条数")),
        "offset": (int, Field(0, ge=0, description="起始位置")),
    }
    for filter_name, filter_ in filterset.base_filters.items():
        multiple = isinstance(filter_, django_filters.MultipleChoiceFilter | django_filters.ModelMultipleChoiceFilter)
        kind = list[str] if multiple else str
        fields[filter_name] = (kind | None, Field(None, description=str(filter_.label or filter_name)))
    return create_model(f"{name}Query", __base__=Schema, **fields)


def _page_schema(name: str, item):
    return create_model(
        f"{name}Page",
        __base__=Schema,
        count=(int, Field(description="符合条件的总数")),
        limit=(int, Field(description="每页条数")),
        offset=(int, Field(description="起始位置")),
        items=(list[item], Field(description="本页记录")),
    )


def dump(obj: models.Model) -> dict:
    """A record as the API returns it: foreign keys as ids, choice labels, personal data masked."""
    model = type(obj)
    data = {}
    for field in model._meta.concrete_fields:
        value = field.value_from_object(obj)
        data[field.name] = masked_value(model, field, value) if isinstance(field, EncryptedTextField) else value
        if field.choices:
            data[f"{field.name}_display"] = str(getattr(obj, f"get_{field.name}_display")())
    return data


# --- request handling -----------------------------------------------------------------------


def filtered(request: HttpRequest, queryset: models.QuerySet, filterset) -> models.QuerySet:
    form = filterset(request.GET, queryset=queryset, request=request)
    for field in form.form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            # A record outside the scope answers like a missing one: filters are no existence oracle.
            field.queryset = narrow_choices(field.queryset, request.auth)
    if not form.is_valid():
        raise ValidationError({name: list(messages) for name, messages in form.errors.items()})
    return form.qs


def page(queryset: models.QuerySet, query, serialize=dump) -> dict:
    # pk breaks ties so that pages neither repeat nor skip rows.
    ordered = queryset.order_by(*(queryset.model._meta.ordering or []), "pk")
    items = ordered[query.offset : query.offset + query.limit]
    return {
        "count": ordered.count(),
        "limit": query.limit,
        "offset": query.offset,
        "items": [serialize(obj) for obj in items],
    }


def _references_in_scope(user, model, data: dict) -> None:
    """A record may only point at records the user can see (and an enterprise only into its jurisdiction)."""
    errors = {}
    for name, value in data.items():
        field = model._meta.get_field(name)
        if not field.is_relation or value is None:
            continue
        related = field.related_model
        if issubclass(related, RegulatedModel):
            visible = access.scoped(related._default_manager.filter(pk=value), user, access.VIEW).exists()
        elif related is Division:
            visible = access.division_in_scope(user, str(value))
        else:
            visible = True
        if not visible:
            errors[name] = ["所选对象不存在或不在本辖区范围内"]
    if errors:
        raise ValidationError(errors)


def _field_values(user, model, payload) -> dict:
    data = payload.dict(exclude_unset=True)
    _references_in_scope(user, model, data)
    return {model._meta.get_field(name).attname: value for name, value in data.items()}


def register_crud(router: Router, model: type[RegulatedModel], path: str, filterset) -> None:
    """List 列表 (paged, filtered), retrieve 详情, create 新增, update 修改 (PATCH), delete 删除."""
    name, label = model._meta.model_name, str(model._meta.verbose_name)
    out_schema = _out_schema(model)
    create_schema, patch_schema = _in_schema(model, partial=False), _in_schema(model, partial=True)
    query_schema = _query_schema(model.__name__, filterset)
    page_schema = _page_schema(model.__name__, out_schema)
    collection, item = f"/{path}/", f"/{path}/{{int:pk}}/"

    def records():
        return model._default_manager.all()

    def meta(operation: str, action: str, summary: str) -> dict:
        return {
            "auth": api_auth(model, action),
            "url_name": f"{name}-{operation}",
            "operation_id": f"{name}_{operation}",
            "summary": summary,
            "tags": [label],
        }

    @router.get(collection, response={200: page_schema, **ERRORS}, **meta("list", access.VIEW, f"{label}列表"))
    def list_records(request, query: Query[query_schema]):
        queryset = access.scoped(records(), request.auth, access.VIEW)
        return page(filtered(request, queryset, filterset), query)

    @router.get(item, response={200: out_schema, **ERRORS}, **meta("detail", access.VIEW, f"{label}详情"))
    def retrieve_record(request, pk: int):
        return dump(access.get_scoped_or_404(records(), request.auth, access.VIEW, pk=pk))

    @router.post(collection, response={201: out_schema, **WRITE_ERRORS}, **meta("create", access.ADD, f"新增{label}"))
    def create_record(request, payload: create_schema):
        obj = services.create_record(model, actor=request.auth, **_field_values(request.auth, model, payload))
        return Status(201, dump(obj))

    @router.patch(item, response={200: out_schema, **WRITE_ERRORS}, **meta("update", access.CHANGE, f"修改{label}"))
    def update_record(request, pk: int, payload: patch_schema):
        obj = access.get_scoped_or_404(records(), request.auth, access.CHANGE, pk=pk)
        changes = _field_values(request.auth, model, payload)
        return dump(services.update_record(obj, actor=request.auth, **changes))

    @router.delete(item, response={204: None, **WRITE_ERRORS}, **meta("delete", access.DELETE, f"删除{label}"))
    def delete_record(request, pk: int):
        obj = access.get_scoped_or_404(records(), request.auth, access.DELETE, pk=pk)
        services.delete_record(obj, actor=request.auth)
        return Status(204, None)


# --- audit trail 审计记录 (read only) --------------------------------------------------------


class AuditFilterSet(django_filters.FilterSet):
    object_type = django_filters.CharFilter(label="对象类型（如 registry.enterprise）")
    object_id = django_filters.CharFilter(label="对象编号")
    action = django_filters.ChoiceFilter(label="操作", choices=AuditRecord._meta.get_field("action").choices)
    actor = django_filters.CharFilter(label="操作人账号", field_name="actor_name")
    request_id = django_filters.CharFilter(label="请求编号")
    division = django_filters.CharFilter(label="行政区划代码", method="filter_division")
    since = django_filters.IsoDateTimeFilter(label="起始时间", field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(label="截止时间", field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = AuditRecord
        fields = ["object_type", "object_id", "action", "actor", "request_id", "division", "since", "until"]

    def filter_division(self, queryset, name, value):
        division = Division.objects.filter(code=value.strip()).first()
        return queryset.none() if division is None else queryset.filter(division_code__startswith=division.prefix)


class AuditOut(Schema):
    seq: int = Field(description="序号")
    timestamp: datetime.datetime = Field(description="时间")
    actor_name: str = Field(description="操作人")
    request_id: str = Field(description="请求编号")
    action: str = Field(description="操作")
    action_display: str = Field(description="操作（名称）")
    object_type: str = Field(description="对象类型")
    object_id: str = Field(description="对象编号")
    object_repr: str = Field(description="对象")
    division_code: str = Field(description="行政区划代码")
    before: dict | None = Field(description="修改前（个人信息脱敏）")
    after: dict | None = Field(description="修改后（个人信息脱敏）")
    prev_hash: str = Field(description="前序哈希")
    hash: str = Field(description="本条哈希")


def _masked_values(object_type: str, values: dict | None) -> dict | None:
    """The trail keeps what was written; the API still never shows encrypted personal data in clear."""
    if not values:
        return values
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return values
    result = dict(values)
    for field in model._meta.concrete_fields:
        if isinstance(field, EncryptedTextField) and field.attname in result:
            result[field.attname] = masked_value(model, field, result[field.attname])
    return result


def dump_audit(rec: AuditRecord) -> dict:
    return {
        **{
            name: getattr(rec, name)
            for name in AuditOut.model_fields
            if name not in ("action_display", "before", "after")
        },
        "action_display": rec.get_action_display(),
        "before": _masked_values(rec.object_type, rec.before),
        "after": _masked_values(rec.object_type, rec.after),
    }


audit_router = Router(auth=api_auth(AuditRecord, access.VIEW), tags=["审计记录"])
AuditQuery = _query_schema("Audit", AuditFilterSet)
AuditPage = _page_schema("Audit", AuditOut)


def _audit_records(user) -> models.QuerySet:
    return access.scoped(AuditRecord.objects.all(), user, access.VIEW)


@audit_router.get("/audit/", response={200: AuditPage, **ERRORS}, url_name="auditrecord-list", summary="审计记录列表")
def list_audit(request, query: Query[AuditQuery]):
    return page(filtered(request, _audit_records(request.auth), AuditFilterSet), query, dump_audit)


@audit_router.get(
    "/audit/{int:seq}/", response={200: AuditOut, **ERRORS}, url_name="auditrecord-detail", summary="审计记录详情"
)
def retrieve_audit(request, seq: int):
    return dump_audit(access.get_scoped_or_404(_audit_records(request.auth), request.auth, access.VIEW, seq=seq))


@audit_router.get(
    "/audit/objects/{object_type}/{object_id}/",
    response={200: AuditPage, **ERRORS},
    url_name="auditrecord-object",
    summary="某一对象的审计记录",
)
def object_audit(request, object_type: str, object_id: str, query: Query[AuditQuery]):
    records = _audit_records(request.auth).filter(object_type=object_type, object_id=object_id)
    return page(filtered(request, records, AuditFilterSet), query, dump_audit)


# --- token self-service 我的接口令牌 ----------------------------------------------------------


class TokenOut(Schema):
    id: int = Field(description="令牌编号")
    name: str = Field(description="用途")
    prefix: str = Field(description="密钥前缀")
    created_at: datetime.datetime = Field(description="签发时间")
    expires_at: datetime.datetime | None = Field(description="过期时间（空为长期有效）")
    last_used_at: datetime.datetime | None = Field(description="最近使用时间")


class TokenIssued(TokenOut):
    key: str = Field(description="密钥：只在签发时返回这一次")


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=64, description="用途")
    days: int | None = Field(None, ge=1, le=3650, description="有效天数（缺省为长期有效）")


token_router = Router(tags=["接口令牌"])


@token_router.get("/tokens/", response={200: list[TokenOut], **ERRORS}, url_name="token-list", summary="我的接口令牌")
def list_tokens(request):
    return request.auth.api_tokens.order_by("-created_at", "-pk")


# Only a logged-in person may mint keys: a leaked token must not be able to outlive itself.
@token_router.post(
    "/tokens/",
    auth=LoginSession(),
    response={201: TokenIssued, **WRITE_ERRORS},
    url_name="token-create",
    summary="签发接口令牌",
)
def create_token(request, payload: TokenIn):
    token, key = issue_token(request.auth, payload.name, days=payload.days, actor=request.auth)
    return Status(201, {**TokenOut.from_orm(token).dict(), "key": key})


@token_router.delete(
    "/tokens/{int:pk}/", response={204: None, **WRITE_ERRORS}, url_name="token-delete", summary="吊销接口令牌"
)
def delete_token(request, pk: int):
    token = ApiToken.objects.select_related("user").filter(pk=pk, user=request.auth).first()
    if token is None:
        raise Http404("未找到或无权访问")
    revoke_token(token, actor=request.auth)
    return Status(204, None)
