from django.urls import include, path

from yaojian.api import api

urlpatterns = [
    path("", include("yaojian.core.urls")),
    path("enterprises/", include("yaojian.registry.urls")),
    path("inspections/", include("yaojian.inspections.urls")),
    path("sampling/", include("yaojian.sampling.urls")),
    path("adr/", include("yaojian.adr.urls")),
    path("complaints/", include("yaojian.complaints.urls")),
    path("penalties/", include("yaojian.enforcement.urls")),
    path("credit/", include("yaojian.credit.urls")),
    path("imports/", include("yaojian.imports.urls")),
    path("risk/", include("yaojian.risk.urls")),
    path("api/", api.urls),
]
