"""The public ingress routes: ``/webhook/...`` and ``/mcp/...`` (plain Django views: they
answer in the caller's terms, not the ``/v1`` API's, and check credentials per endpoint)."""

import json
import time

from django.conf import settings
from django.db import close_old_connections
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from hotapi.api.exceptions import api_error, json_error_response
from hotapi.errors import DomainError
from runs.models import RunStatus

from . import mcp, selectors
from .mcp import Endpoint, RpcError
from .sessions import MESSAGE_KIND, sse_session_find, sse_session_open, sse_session_send
from .webhooks import (
    NO_BODY_STATUSES,
    Refused,
    answer,
    authenticate,
    check_rate,
    find_webhook,
    invoke,
    split_target,
)


def refusal_response(request, refused: Refused) -> JsonResponse:
    response = json_error_response(
        request, refused.status, refused.code, refused.message, **refused.extra
    )
    for name, value in refused.headers.items():
        response[name] = value
    return response


def domain_error_response(request, exc: DomainError) -> JsonResponse:
    error = api_error(exc)
    extra = {"details": error.details} if error.details else {}
    return json_error_response(request, error.status_code, error.error_code, exc.message, **extra)


def _webhook_target(request, rest: str):
    """The custom-domain form on a verified domain, else ``{org}/{env}/...``."""
    environment = selectors.environment_by_domain(host=request.get_host())
    if environment is not None:
        return split_target(environment, rest)
    organization, _, rest = rest.partition("/")
    environment_name, _, rest = rest.partition("/")
    if not organization or not environment_name:
        raise Refused(404, "not_found", selectors.NOT_FOUND)
    environment = selectors.environment_by_names(
        organization=organization, environment=environment_name
    )
    return split_target(environment, rest)


def _webhook_response(run_outcome) -> HttpResponse:
    run = run_outcome.run
    if run_outcome.timed_out:
        raise Refused(
            504,
            "webhook_timeout",
            "The webhook function did not finish in time; its run was cancelled",
            {"run_id": str(run.id)},
        )
    if run.status != RunStatus.SUCCEEDED:
        raise Refused(
            500,
            "webhook_function_failed",
            f"The webhook function {run.status}: {run.error or 'no reason given'}",
            {"run_id": str(run.id)},
        )
    result = answer(run.result)
    if result.status in NO_BODY_STATUSES:
        response = HttpResponse(status=result.status)
    else:
        response = JsonResponse(result.body, status=result.status, safe=False)
    for name, value in result.headers.items():
        try:
            response[name] = value
        except ValueError:  # a header value Django refuses (newlines): left out
            continue
    response["X-Hot-Run-Id"] = str(run.id)
    return response


@csrf_exempt
def webhook(request, rest: str):
    try:
        target = _webhook_target(request, rest)
        check_rate(target.environment)
        hook = find_webhook(target, request.method)
        credential = None
        if hook.auth == "required":
            credential = authenticate(
                request.headers.get("Authorization", ""),
                target.environment,
                [f"webhook:{hook.service}", f"webhook:{hook.service}/{hook.path}"],
            )
        outcome = invoke(hook, request, environment=target.environment, credential=credential)
        return _webhook_response(outcome)
    except Refused as refused:
        return refusal_response(request, refused)
    except DomainError as exc:
        return domain_error_response(request, exc)


# --- MCP -------------------------------------------------------------------------------------

MESSAGES = "messages"


def _mcp_endpoint(request, rest: str) -> tuple[Endpoint, bool]:
    """(the service's endpoint, whether this is the legacy ``…/messages`` URL)."""
    segments = [segment for segment in rest.split("/") if segment]
    is_messages = len(segments) > 1 and segments[-1] == MESSAGES
    if is_messages:
        segments = segments[:-1]
    environment = selectors.environment_by_domain(host=request.get_host())
    if environment is None:
        if len(segments) != 3:
            raise Refused(404, "not_found", "MCP endpoints are /mcp/{org}/{env}/{service}")
        organization, environment_name, service = segments
        environment = selectors.environment_by_names(
            organization=organization, environment=environment_name
        )
    elif len(segments) == 1:
        service = segments[0]
    else:
        raise Refused(404, "not_found", "MCP endpoints on this domain are /mcp/{service}")
    endpoint = Endpoint(environment, service, request.headers.get("Authorization", ""))
    return endpoint, is_messages


def _rpc_error_response(error: RpcError, request_id=None, headers=None) -> JsonResponse:
    response = JsonResponse(error.body(request_id), status=error.http_status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _rate_limited(endpoint: Endpoint):
    try:
        check_rate(endpoint.environment)
    except Refused as refused:
        error = RpcError(mcp.SERVER_BUSY, refused.message, refused.extra, http_status=429)
        return _rpc_error_response(error, headers=refused.headers)
    return None


def _streamable_post(request, endpoint: Endpoint) -> HttpResponse:
    if limited := _rate_limited(endpoint):
        return limited
    try:
        body, status = mcp.answer(endpoint, request.body)
    except RpcError as error:
        return _rpc_error_response(error)
    if body is None:
        return HttpResponse(status=202)
    response = JsonResponse(body, status=status, safe=False)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="hot"'
    return response


def _legacy_post(request, endpoint: Endpoint) -> HttpResponse:
    """``POST …/messages?sessionId=``: the answer goes out on the session's SSE stream."""
    stream = sse_session_find(
        environment=endpoint.environment, session_id=request.GET.get("sessionId", "")
    )
    if stream is None:
        return _rpc_error_response(
            RpcError(mcp.INVALID_REQUEST, "Unknown or expired sessionId", http_status=404)
        )
    if limited := _rate_limited(endpoint):
        return limited
    try:
        body, _status = mcp.answer(endpoint, request.body)
    except RpcError as error:
        body = error.body(None)
    if body is not None:
        sse_session_send(stream=stream, message=body)
    return HttpResponse(status=202)


def _sse(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


async def _legacy_events(subscription, endpoint_url: str):
    """The session's SSE stream: its ``endpoint`` first, then every answer posted to it, for
    at most ``HOT_MCP_SSE_SESSION_SECONDS``."""
    try:
        yield _sse("endpoint", endpoint_url)
        deadline = time.monotonic() + settings.HOT_MCP_SSE_SESSION_SECONDS
        while (remaining := deadline - time.monotonic()) > 0:
            batch = await subscription.next_batch(
                min(remaining, settings.HOT_SSE_HEARTBEAT_SECONDS)
            )
            if subscription.overflowed:
                return
            if not batch:
                yield b": keepalive\n\n"
            for entry in batch:
                if entry.kind == MESSAGE_KIND:
                    yield _sse("message", json.dumps(entry.payload["message"]))
    finally:
        subscription.close()


def _legacy_get(request, endpoint: Endpoint) -> HttpResponse:
    """``GET /mcp/…``: opens an HTTP+SSE session (the deprecated 2024-11-05 transport)."""
    if limited := _rate_limited(endpoint):
        return limited
    session, subscription = sse_session_open(environment=endpoint.environment)
    endpoint_url = f"{request.path.rstrip('/')}/{MESSAGES}?sessionId={session}"
    close_old_connections()
    response = StreamingHttpResponse(
        _legacy_events(subscription, endpoint_url), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    response._resource_closers.append(subscription.close)
    return response


@csrf_exempt
def mcp_endpoint(request, rest: str):
    try:
        endpoint, is_messages = _mcp_endpoint(request, rest)
    except Refused as refused:
        return refusal_response(request, refused)
    except DomainError as exc:
        return domain_error_response(request, exc)
    if request.method == "POST":
        return (
            _legacy_post(request, endpoint) if is_messages else _streamable_post(request, endpoint)
        )
    if request.method == "GET" and not is_messages:
        return _legacy_get(request, endpoint)
    allowed = "POST" if is_messages else "GET, POST"
    refused = Refused(
        405,
        "method_not_allowed",
        f"{request.method} is not served here",
        headers={"Allow": allowed},
    )
    return refusal_response(request, refused)
