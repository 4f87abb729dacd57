"""Every error leaves the API as ``{"error": {"code", "message", "request_id"}}``.

Codes follow the seed (``unauthorized``, ``not_found``, ``bad_request``, ``rate_limit_exceeded``,
``internal_server_error``) and, for statuses the seed does not list, a precise code of the same
style. Validation errors add ``details``: field name → list of messages. A 500 never carries
exception text; the traceback goes to the log under the request id.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from .middleware import request_id_for

log = logging.getLogger("hotapi.errors")

INTERNAL_ERROR_MESSAGE = "An internal server error occurred"


class HotAPIError(exceptions.APIException):
    """Base for the service's own errors: a status, a code and a message."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
    default_detail = "Bad request"

    def __init__(self, message: str | None = None, code: str | None = None, details=None):
        super().__init__(message or self.default_detail, code or self.default_code)
        self.error_code = code or self.default_code
        self.details = details


class BadRequest(HotAPIError):
    pass


class Conflict(HotAPIError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "Conflict"


class Forbidden(HotAPIError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "forbidden"
    default_detail = "Forbidden"


class NotFound(HotAPIError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"
    default_detail = "Not found"


class PayloadTooLarge(HotAPIError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "Request body is too large"


class ServiceUnavailable(HotAPIError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "Service temporarily unavailable"


_CODE_BY_CLASS: list[tuple[type, str]] = [
    (exceptions.ValidationError, "bad_request"),
    (exceptions.ParseError, "bad_request"),
    (exceptions.NotAuthenticated, "unauthorized"),
    (exceptions.AuthenticationFailed, "unauthorized"),
    (exceptions.PermissionDenied, "forbidden"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "rate_limit_exceeded"),
]


def _flatten_details(detail, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"field.sub": ["message", ...]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten_details(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            flat[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                flat.update(_flatten_details(item, f"{prefix}[{index}]"))
    else:
        flat[prefix or "non_field_errors"] = [str(detail)]
    return flat


def _validation_message(details: dict[str, list[str]]) -> str:
    parts = []
    for field, messages in details.items():
        label = "" if field == "non_field_errors" else f"{field}: "
        parts.append(label + "; ".join(messages))
    return "Invalid request: " + " | ".join(parts) if parts else "Invalid request"


def error_body(request, code: str, message: str, **extra) -> dict:
    error = {"code": code, "message": message, "request_id": request_id_for(request)}
    error.update({key: value for key, value in extra.items() if value is not None})
    return {"error": error}


def envelope_exception_handler(exc, context):
    request = context.get("request")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge("Request body exceeds the allowed size")

    if not isinstance(exc, exceptions.APIException):
        log.exception("Unhandled error while serving %s", getattr(request, "path", "?"))
        set_rollback()
        body = error_body(request, "internal_server_error", INTERNAL_ERROR_MESSAGE)
        return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    extra = {}
    if isinstance(exc, HotAPIError):
        code, message = exc.error_code, str(exc.detail)
        if exc.details:
            extra["details"] = exc.details
    else:
        code = next((c for cls, c in _CODE_BY_CLASS if isinstance(exc, cls)), "error")
        if isinstance(exc, exceptions.ValidationError):
            details = _flatten_details(exc.detail)
            message = _validation_message(details)
            extra["details"] = details
        else:
            message = str(exc.detail)
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, int(exc.wait or 1))
        headers["Retry-After"] = str(wait)
        extra["retry_after"] = wait
        message = f"Rate limit exceeded. Retry after {wait} seconds."
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
        headers.setdefault("WWW-Authenticate", 'Bearer realm="hot"')
        exc.status_code = status.HTTP_401_UNAUTHORIZED

    set_rollback()
    return Response(
        error_body(request, code, message, **extra), status=exc.status_code, headers=headers
    )


def json_error_response(request, status_code: int, code: str, message: str) -> JsonResponse:
    """An enveloped error for plain Django views (404/500 handlers, unknown /v1 routes)."""
    response = JsonResponse(error_body(request, code, message), status=status_code)
    return response
