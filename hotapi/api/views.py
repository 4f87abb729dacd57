"""Views of the API core: the base viewset every app builds on, /status and the fallbacks."""

import subprocess
from functools import cache

from django.conf import settings
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from hotapi.timestamps import utc_timestamp
from hotapi.version import PROCESS_START, __version__

from .exceptions import json_error_response
from .renderers import EnvelopeJSONRenderer


class LargeBodyMixin:
    """For views that take event payloads: JSON bodies up to ``HOT_MAX_EVENT_BODY_BYTES``."""

    @property
    def max_body_bytes(self) -> int:
        return settings.HOT_MAX_EVENT_BODY_BYTES


class EnvironmentScopedViewSet(viewsets.GenericViewSet):
    """Base for resource viewsets: ``self.environment`` is the API key's environment."""

    @property
    def environment(self):
        return self.request.auth.environment


@cache
def git_sha() -> str:
    if settings.HOT_GIT_SHA:
        return settings.HOT_GIT_SHA[:7]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=7", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class StatusView(APIView):
    """Health of the API server. No authentication; not enveloped (as the seed shows)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="status",
        description="Health of the API server. Needs no API key; the body is not enveloped.",
        tags=["status"],
        auth=[],
        responses=inline_serializer(
            "Status",
            {
                "status": serializers.CharField(),
                "service": serializers.CharField(),
                "version": serializers.CharField(),
                "git_sha": serializers.CharField(),
                "start_time": serializers.DateTimeField(),
            },
        ),
    )
    def get(self, request):
        response = Response(
            {
                "status": "ok",
                "service": "hot.dev api server",
                "version": __version__,
                "git_sha": git_sha(),
                "start_time": utc_timestamp(PROCESS_START),
            }
        )
        response.unwrapped = True
        return response


DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'"
)


class DocsPageMixin:
    """The documentation pages (HTML): the browser fetches nothing from other origins, and
    ``OPTIONS`` answers in JSON like every other route (the page's template renderer cannot
    render it)."""

    def options(self, request, *args, **kwargs):
        request.accepted_renderer = EnvelopeJSONRenderer()
        request.accepted_media_type = EnvelopeJSONRenderer.media_type
        return super().options(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response


class DocsView(DocsPageMixin, SpectacularSwaggerView):
    pass


class RedocView(DocsPageMixin, SpectacularRedocView):
    template_name = "hot/redoc.html"


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    return json_error_response(request, 404, "not_found", f"No route for {request.path}")


def handler404(request, exception=None):
    return json_error_response(request, 404, "not_found", "Not found")


def handler400(request, exception=None):
    """Reached for requests Django refuses before routing, such as a ``Host`` header that is
    not in ALLOWED_HOSTS (reported, as Django does, under ``django.security``)."""
    return json_error_response(request, 400, "bad_request", "Bad request")


def handler500(request):
    return json_error_response(
        request, 500, "internal_server_error", "An internal server error occurred"
    )


# The docs pages load their scripts and styles from this service only (drf-spectacular-sidecar);
# the policy keeps it that way, e.g. Redoc's "powered by" logo is never fetched from its CDN.
