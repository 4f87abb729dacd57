"""Request ids (one per request, echoed as ``X-Request-Id`` and attached to every log line,
carried into Celery tasks) and the access log with its request metrics."""

import logging
import re
import time
import uuid
from contextvars import ContextVar, Token

from hotapi import metrics

_current_request_id: ContextVar[str | None] = ContextVar("hot_request_id", default=None)

# An inbound id is trusted only when it is short and plain, so it cannot inject log lines.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def current_request_id() -> str | None:
    return _current_request_id.get()


def bind_request_id(request_id: str | None) -> Token:
    """Make ``request_id`` the current one (a Celery task continuing a request's work);
    undo with :func:`unbind_request_id`."""
    return _current_request_id.set(request_id)


def unbind_request_id(token: Token) -> None:
    _current_request_id.reset(token)


def request_id_for(request) -> str:
    """The id of ``request`` (Django or DRF), or of the request being served."""
    django_request = getattr(request, "_request", request)
    return getattr(django_request, "request_id", None) or current_request_id() or str(uuid.uuid4())


def request_id_from_header(inbound: str) -> str:
    """The inbound ``X-Request-Id`` when it is sane, otherwise a new UUID."""
    return inbound if _SANE_REQUEST_ID.fullmatch(inbound) else str(uuid.uuid4())


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from_header(request.META.get("HTTP_X_REQUEST_ID", ""))
        request.request_id = request_id
        token = _current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current_request_id.reset(token)
        response["X-Request-Id"] = request_id
        return response


access_log = logging.getLogger("hot.access")

# Probes and static files would drown the log; their lines go out at DEBUG.
_QUIET_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/")


def route_of(request) -> str:
    """The matched URL pattern (``v1/projects/<str:project_ref>``): a bounded label, unlike the
    path. Requests that matched nothing are ``unmatched``."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return "unmatched"
    return match.route


def loggable_path(path: str) -> str:
    """The path without secrets: a webhook URL's last segment is its token."""
    if path.startswith("/webhook/"):
        return path.rstrip("/").rsplit("/", 1)[0] + "/<token>"
    return path


def _caller(request) -> tuple[str | None, str | None]:
    """Environment id and credential id (the ``<id>`` part of a ``hot_<id>_…``, ``s_<id>_…`` or
    service-key token) of an authenticated API request."""
    credential = getattr(request, "auth", None)
    if credential is None or not hasattr(credential, "environment"):
        return None, None
    return str(credential.environment.pk), credential.id.hex


class AccessLogMiddleware:
    """One line per request (method, path, route, status, duration, request id, environment and
    key id; never a token) and the request count and latency metrics."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_of(request)
        metrics.http_requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.http_request_duration.labels(request.method, route).observe(elapsed)
        environment_id, key_id = _caller(request)
        level = logging.DEBUG if request.path.startswith(_QUIET_PREFIXES) else logging.INFO
        path = loggable_path(request.path)
        access_log.log(
            level,
            "%s %s %s %.1fms route=%s env=%s key=%s",
            request.method,
            path,
            response.status_code,
            elapsed * 1000,
            route,
            environment_id or "-",
            key_id or "-",
            extra={
                "method": request.method,
                "path": path,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 1),
                "environment_id": environment_id,
                "key_id": key_id,
            },
        )
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


_API_PREFIXES = ("/v1/", "/api/v1/")


def is_api_path(path: str) -> bool:
    return path.startswith(_API_PREFIXES)


class TrailingSlashMiddleware:
    """API routes are declared without a trailing slash; one sent anyway is ignored, on every
    route alike (the SDK sends none, hand-written clients often do)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.endswith("/") and is_api_path(path) and path not in _API_PREFIXES:
            request.path_info = path.rstrip("/")
        return self.get_response(request)
