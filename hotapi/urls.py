from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from hotapi.api.views import StatusView, api_not_found, same_origin_only
from operations import views as operations

api_v1 = [
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path(
        "docs",
        same_origin_only(SpectacularSwaggerView.as_view(url_name="openapi")),
        name="api-docs",
    ),
    path(
        "redoc",
        same_origin_only(
            SpectacularRedocView.as_view(url_name="openapi", template_name="hot/redoc.html")
        ),
        name="api-redoc",
    ),
    path("", include("environments.urls")),
    path("", include("projects.urls")),
    path("", include("secrets_app.urls")),
    path("", include("builds.urls")),
    path("", include("events.urls")),
    path("", include("runs.urls")),
    re_path(r"^.*$", api_not_found),  # unknown routes under /v1 answer with the 404 envelope
]

urlpatterns = [
    path("status", StatusView.as_view(), name="status"),
    path("", StatusView.as_view(), name="root-status"),
    path("healthz", operations.healthz, name="healthz"),
    path("readyz", operations.readyz, name="readyz"),
    path("metrics", operations.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("v1/", include(api_v1)),
    path("api/v1/", include(api_v1)),  # the seed's hosted base URL
]

handler404 = "hotapi.api.views.handler404"
handler500 = "hotapi.api.views.handler500"
