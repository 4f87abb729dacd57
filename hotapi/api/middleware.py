"""Request ids: one per request, echoed as ``X-Request-Id`` and attached to every log line."""

import logging
import re
import uuid
from contextvars import ContextVar

_current_request_id: ContextVar[str | None] = ContextVar("hot_request_id", default=None)

# An inbound id is trusted only when it is short and plain, so it cannot inject log lines.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def current_request_id() -> str | None:
    return _current_request_id.get()


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
