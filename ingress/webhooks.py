"""Webhooks: ``ANY /webhook/{org}/{env}/{service}/{path…}/{token}`` (or, on a verified custom
domain, ``/webhook/{service}/{path…}/{token}``) runs the deployed function declared with
``meta {webhook: ...}`` and answers with its result, the way Hot maps it.

Everything a caller can get wrong is a ``Refused`` (an enveloped error with its status); a
wrong token answers exactly like an unknown endpoint, so the table cannot be probed, and
tokens are compared in constant time and never logged (the access log masks the segment).
"""

import hmac
import json
import math
from dataclasses import dataclass, field

from django.conf import settings

from environments.services import credential_authenticate
from hotapi.access import EXECUTE
from hotapi.api.throttling import HOUR, clock, count_request

from . import selectors
from .calls import call_function

SECRET_HEADERS = ("authorization", "cookie", "proxy-authorization", "set-cookie")
# Headers the server sets for the body and the connection: a function's value would break
# the response (a wrong length, a second transfer coding), so they are left out.
FRAMING_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"}
)
NO_BODY_STATUSES = (204, 304)


@dataclass
class Refused(Exception):
    """What the caller gets instead of a call: an enveloped error."""

    status: int
    code: str
    message: str
    extra: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)


def not_found() -> Refused:
    return Refused(404, "not_found", selectors.NOT_FOUND)


@dataclass
class Target:
    environment: object
    service: str
    path: str  # the endpoint path, no outer '/'
    token: str


def split_target(environment, rest: str) -> Target:
    """``{service}/{path…}/{token}`` → its parts (the path may be empty: the service root)."""
    segments = [segment for segment in rest.split("/") if segment]
    if len(segments) < 2:
        raise not_found()
    return Target(environment, segments[0], "/".join(segments[1:-1]), segments[-1])


def check_rate(environment) -> None:
    """Webhook calls count against the environment's request limits, like API requests."""
    hourly, burst = environment.requests_per_hour, environment.requests_per_second
    if hourly <= 0 and burst <= 0:
        return
    now = clock()
    counted = count_request(environment.pk, burst=burst, hourly=hourly, now=now)
    if counted.burst_refused:
        wait = 1
    elif hourly > 0 and counted.hour_count > hourly:
        wait = max(1, math.ceil((int(now // HOUR) + 1) * HOUR - now))
    else:
        return
    raise Refused(
        429,
        "rate_limit_exceeded",
        f"Rate limit exceeded. Retry after {wait} seconds.",
        {"retry_after": wait},
        {"Retry-After": str(wait)},
    )


def find_webhook(target: Target, method: str):
    webhooks = list(
        selectors.serving_webhooks(
            environment_id=target.environment.id, service=target.service, path=target.path
        )
    )
    # Every candidate's token is compared, matching or not, so timing tells nothing.
    matching = [
        hook for hook in webhooks if hmac.compare_digest(hook.token.encode(), target.token.encode())
    ]
    if not matching:
        raise not_found()
    for hook in matching:
        if hook.method == method:
            return hook
    allowed = ", ".join(sorted({hook.method for hook in matching}))
    raise Refused(
        405,
        "method_not_allowed",
        f"This webhook accepts {allowed}, not {method}",
        headers={"Allow": allowed},
    )


def authenticate(header: str, environment, resources: list[str]):
    """The caller's credential for an endpoint with ``auth: "required"``: an API key, a
    session or a service key of the endpoint's environment holding ``execute`` on one of
    ``resources``."""
    scheme, _, token = header.partition(" ")
    if not header or scheme != "Bearer" or not token.strip():
        raise Refused(
            401,
            "unauthorized",
            "This endpoint requires authentication: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="hot"'},
        )
    credential = credential_authenticate(token.strip())
    if credential is None:
        raise Refused(
            401,
            "unauthorized",
            "Invalid, expired or revoked token",
            headers={"WWW-Authenticate": 'Bearer realm="hot"'},
        )
    if credential.environment.pk != environment.pk:
        raise Refused(403, "forbidden", "This token belongs to another environment")
    if not any(credential.allows(resource, EXECUTE) for resource in resources):
        raise Refused(403, "forbidden", f"This token lacks 'execute' on '{resources[-1]}'")
    return credential


def caller_identity(credential) -> dict | None:
    """``request.auth`` as Hot code sees it: the credential's type (and a service key's id)."""
    if credential is None:
        return None
    kind = {"api_key": "api-key", "session": "session", "service_key": "service-key"}
    identity = {"type": kind.get(credential.kind, credential.kind)}
    if credential.kind == "service_key":
        identity["service-key"] = {"id": str(credential.id)}
    return identity


def _headers(request, *, drop_secrets: bool) -> dict[str, str]:
    headers = {key.lower(): value for key, value in request.headers.items()}
    if drop_secrets:  # the platform consumed the credential; the function gets `auth` instead
        for name in SECRET_HEADERS:
            headers.pop(name, None)
    return headers


def _client_ip(request) -> str | None:
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded:
        return forwarded.split(",")[0].strip() or None
    return request.headers.get("X-Real-Ip") or request.META.get("REMOTE_ADDR") or None


def _body(raw: bytes) -> dict:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"body": None, "body-raw": raw.decode("utf-8", "replace"), "body-bytes": list(raw)}
    if not text:
        return {"body": None, "body-raw": None}
    try:
        body = json.loads(text)
    except ValueError:
        body = text
    return {"body": body, "body-raw": text}


def request_value(request, webhook, credential) -> dict:
    """The ``::hot::http/HttpRequest`` fields the function receives (as a map). ``url`` is
    token-free; the token-bearing ``original-url`` is not kept (the run's arguments are
    stored and listed)."""
    path = "/".join(part for part in ("/webhook", webhook.service, webhook.path) if part)
    query = {key: request.GET.get(key) for key in request.GET}
    value = {
        "method": request.method,
        "url": path,
        "original-url": None,
        "headers": _headers(request, drop_secrets=webhook.auth == "required"),
        "query": query,
        **_body(request.body),
        "ip": _client_ip(request),
        "auth": caller_identity(credential),
    }
    return value


@dataclass
class Answer:
    status: int
    body: object
    headers: dict[str, str]


def _unwrapped(result):
    if isinstance(result, dict) and "$type" in result and "$val" in result:
        return result["$type"], result["$val"]
    return None, result


def answer(result) -> Answer:
    """Hot's mapping of a webhook function's result: an ``HttpResponse`` (or any map with a
    ``status``) gives the status, headers and JSON body; any other value is a 200 JSON body."""
    kind, value = _unwrapped(result)
    response_like = kind is None or kind.endswith("HttpResponse")
    if response_like and isinstance(value, dict) and "status" in value:
        status = value.get("status")
        status = status if isinstance(status, int) and 100 <= status <= 599 else 200
        headers = value.get("headers") if isinstance(value.get("headers"), dict) else {}
        headers = {
            str(k): v
            for k, v in headers.items()
            if isinstance(v, str) and str(k).lower() not in FRAMING_HEADERS
        }
        return Answer(status, _unwrapped(value.get("body"))[1], headers)
    return Answer(200, value, {})


def invoke(webhook, request, *, environment, credential):
    """Run the webhook's function with the request; the outcome (run and timeout flag)."""
    return call_function(
        environment=environment,
        build=webhook.build,
        function=f"{webhook.ns}/{webhook.var}",
        args=[request_value(request, webhook, credential)],
        origin=f"webhook:{webhook.id}",
        timeout=settings.HOT_WEBHOOK_TIMEOUT_SECONDS,
    )
