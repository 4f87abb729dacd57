"""Every error leaves the API as ``{"error": {"code", "message", "request_id"}}``.

Codes follow the seed (``unauthorized``, ``not_found``, ``bad_request``, ``rate_limit_exceeded``,
``internal_server_error``) and, for statuses the seed does not list, a precise code of the same
style. Validation errors add ``details``: field name → list of messages. A 500 never carries
exception text; the traceback goes to the log under the request id.

Services raise the HTTP-agnostic errors of ``hotapi.errors``; this module gives each kind its
status.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from hotapi import errors

from .middleware import request_id_for

log = logging.getLogger("hotapi.errors")

INTERNAL_ERROR_MESSAGE = "An internal server error occurred"

STATUS_BY_DOMAIN_ERROR: list[tuple[type[errors.DomainError], int]] = [
    (errors.NotFound, status.HTTP_404_NOT_FOUND),
    (errors.Conflict, status.HTTP_409_CONFLICT),
    (errors.Forbidden, status.HTTP_403_FORBIDDEN),
    (errors.TooLarge, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE),
    (errors.LimitExceeded, status.HTTP_429_TOO_MANY_REQUESTS),
    (errors.DomainError, status.HTTP_400_BAD_REQUEST),
]


class HotAPIError(exceptions.APIException):
    """A domain error on its way out: its status, code, message and details."""

    def __init__(self, status_code: int, code: str, message: str, details=None):
        super().__init__(message, code)
        self.status_code = status_code
        self.error_code = code
        self.details = details


def api_error(exc: errors.DomainError) -> HotAPIError:
    status_code = next(code for kind, code in STATUS_BY_DOMAIN_ERROR if isinstance(exc, kind))
    return HotAPIError(status_code, exc.code, exc.message, exc.details)


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


def error_envelope(code: str, message: str, request_id: str, **extra) -> dict:
    """The error body every API error has; also used outside Django (``bodylimits``)."""
    error = {"code": code, "message": message, "request_id": request_id}
    error.update({key: value for key, value in extra.items() if value is not None})
    return {"error": error}


def error_body(request, code: str, message: str, **extra) -> dict:
    return error_envelope(code, message, request_id_for(request), **extra)


def _as_api_exception(exc):
    """Django's and the domain's errors in DRF's terms; anything else stays as it is."""
    if isinstance(exc, errors.DomainError):
        return api_error(exc)
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or "Not found")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        # Our parser names the limit; Django's own message names a setting instead.
        message = str(exc) if str(exc).startswith("Request body exceeds ") else ""
        return HotAPIError(
            413, "payload_too_large", message or "Request body exceeds the allowed size"
        )
    return exc


def _code_message_extra(exc: exceptions.APIException) -> tuple[str, str, dict]:
    if isinstance(exc, HotAPIError):
        return exc.error_code, str(exc.detail), {"details": exc.details}
    code = next((c for cls, c in _CODE_BY_CLASS if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        details = _flatten_details(exc.detail)
        return code, _validation_message(details), {"details": details}
    return code, str(exc.detail), {}


def envelope_exception_handler(exc, context):
    request = context.get("request")
    exc = _as_api_exception(exc)
    if not isinstance(exc, exceptions.APIException):
        log.exception("Unhandled error while serving %s", getattr(request, "path", "?"))
        set_rollback()
        body = error_body(request, "internal_server_error", INTERNAL_ERROR_MESSAGE)
        return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)

    code, message, extra = _code_message_extra(exc)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, int(exc.wait or 1))
        headers["Retry-After"] = str(wait)
        extra["retry_after"] = wait
        message = f"Rate limit exceeded. Retry after {wait} seconds."
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
        # Views without authenticators get no auth_header from DRF, which would make this a
        # 403; a missing or bad key is always 401 here.
        headers.setdefault("WWW-Authenticate", 'Bearer realm="hot"')
        exc.status_code = status.HTTP_401_UNAUTHORIZED

    set_rollback()
    return Response(
        error_body(request, code, message, **extra), status=exc.status_code, headers=headers
    )


def json_error_response(
    request, status_code: int, code: str, message: str, **extra
) -> JsonResponse:
    """An enveloped error for plain Django views (404/500 handlers, unknown /v1 routes)."""
    return JsonResponse(error_body(request, code, message, **extra), status=status_code)
