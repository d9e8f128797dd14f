"""REST API 接口 (django-ninja, OpenAPI at /api/docs)."""

from ninja import NinjaAPI

api = NinjaAPI(title="药监云 Yaojian API", version="1", urls_namespace="api")
