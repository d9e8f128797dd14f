from django.urls import include, path

from yaojian.api import api

urlpatterns = [
    path("", include("yaojian.core.urls")),
    path("enterprises/", include("yaojian.registry.urls")),
    path("inspections/", include("yaojian.inspections.urls")),
    path("sampling/", include("yaojian.sampling.urls")),
    path("adr/", include("yaojian.adr.urls")),
    path("casework/", include("yaojian.casework.urls")),
    path("signals/", include("yaojian.signals.urls")),
    path("sentinel/", include("yaojian.sentinel.urls")),
    path("pharmacy/", include("yaojian.pharmacy.urls")),
    path("trace/", include("yaojian.trace.urls")),
    path("complaints/", include("yaojian.complaints.urls")),
    path("penalties/", include("yaojian.enforcement.urls")),
    path("credit/", include("yaojian.credit.urls")),
    path("imports/", include("yaojian.imports.urls")),
    path("risk/", include("yaojian.risk.urls")),
    path("api/", api.urls),
]
