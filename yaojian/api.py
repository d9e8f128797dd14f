"""REST API 接口 (django-ninja): OpenAPI schema at /api/openapi.json, documentation at /api/docs.

Every endpoint needs a bearer token or a logged-in session (401 otherwise), and answers with
the same role and jurisdiction rules as the pages. Errors carry Chinese messages.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError
from django.http import Http404
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as SchemaValidationError

from yaojian.adr.api import router as adr_router
from yaojian.complaints.api import router as complaints_router
from yaojian.core.api import audit_router, token_router
from yaojian.core.api_auth import API_AUTH
from yaojian.credit.api import router as credit_router
from yaojian.enforcement.api import router as enforcement_router
from yaojian.inspections.api import router as inspections_router
from yaojian.pharmacy.api import router as pharmacy_router
from yaojian.registry.api import router as registry_router
from yaojian.sampling.api import router as sampling_router

api = NinjaAPI(
    title="药监云 Yaojian API",
    version="1",
    description=(
        "药品、医疗器械、化妆品监管数据接口。"
        "认证：`Authorization: Bearer <令牌>`（由 `yaojian token create` 签发）或登录会话。"
    ),
    urls_namespace="api",
    auth=API_AUTH,
    # Swagger UI would otherwise send the schema's address to validator.swagger.io: nothing leaves the intranet.
    docs=Swagger(settings={"validatorUrl": None}),
)

for router in (
    registry_router,
    inspections_router,
    sampling_router,
    adr_router,
    complaints_router,
    enforcement_router,
    credit_router,
    pharmacy_router,
    audit_router,
    token_router,
):
    api.add_router("", router)


def _error(request, status: int, detail: str, **extra):
    return api.create_response(request, {"detail": detail, **extra}, status=status)


# Chinese messages for the schema errors a client most often makes; the type names are pydantic's.
SCHEMA_MESSAGES = {
    "missing": "此字段为必填项",
    "int_parsing": "请输入整数",
    "int_type": "请输入整数",
    "bool_parsing": "请输入 true 或 false",
    "bool_type": "请输入 true 或 false",
    "date_from_datetime_parsing": "日期格式无效，应为 YYYY-MM-DD",
    "date_parsing": "日期格式无效，应为 YYYY-MM-DD",
    "date_type": "日期格式无效，应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式无效",
    "decimal_parsing": "请输入数字",
    "string_type": "请输入文本",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "json_invalid": "请求体不是有效的 JSON",
}


@api.exception_handler(SchemaValidationError)
def schema_invalid(request, exc):
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "payload")]
        key = ".".join(location[-1:]) or "__all__"
        errors.setdefault(key, []).append(SCHEMA_MESSAGES.get(error.get("type"), "值无效"))
    return _error(request, 422, "数据校验未通过", errors=errors)


@api.exception_handler(ValidationError)
def record_invalid(request, exc):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return _error(request, 422, "数据校验未通过", errors=errors)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    response = _error(request, 401, "未认证：请提供有效的接口令牌或先登录")
    response["WWW-Authenticate"] = 'Bearer realm="yaojian"'
    return response


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    return _error(request, 403, str(exc) or "无此操作权限")


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "未找到或无权访问")


@api.exception_handler(ProtectedError)
def protected(request, exc):
    return _error(request, 409, "存在关联记录，不能删除")
