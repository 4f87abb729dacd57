from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView

from hotapi.api.urlgroups import grouped_by_first_segment
from hotapi.api.views import DocsView, RedocView, StatusView, api_not_found
from operations import views as operations

# The API's routes in the order they are tried; served grouped by first segment (urlgroups).
api_v1_routes = [
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("docs", DocsView.as_view(url_name="openapi"), name="api-docs"),
    path("redoc", RedocView.as_view(url_name="openapi"), name="api-redoc"),
    path("", include("environments.urls")),
    path("", include("domains.urls")),
    path("", include("projects.urls")),
    path("", include("secrets_app.urls")),
    path("", include("builds.urls")),
    path("", include("files.urls")),
    path("", include("events.urls")),
    path("", include("runs.urls")),
    path("", include("tasks.urls")),
    path("", include("ingress.api_urls")),
    re_path(r"^.*$", api_not_found),  # unknown routes under /v1 answer with the 404 envelope
]
api_v1 = grouped_by_first_segment(api_v1_routes)

urlpatterns = [
    path("status", StatusView.as_view(), name="status"),
    path("", StatusView.as_view(), name="root-status"),
    path("healthz", operations.healthz, name="healthz"),
    path("readyz", operations.readyz, name="readyz"),
    path("metrics", operations.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("v1/", include(api_v1)),
    path("api/v1/", include(api_v1)),  # the seed's hosted base URL
    path("", include("ingress.urls")),  # /webhook/..., /mcp/...
]

handler400 = "hotapi.api.views.handler400"
handler404 = "hotapi.api.views.handler404"
handler500 = "hotapi.api.views.handler500"
