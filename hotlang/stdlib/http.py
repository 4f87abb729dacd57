"""Outbound HTTP: `::hot::http` requests (the types and pure helpers are in hot/http.hot).

The host does the exchange (`Hooks.http_client()`, which enforces the egress policy, the
timeout, the response-size limit and the redirect cap); this module builds the request from
Hot values, waits for it interruptibly (hostcall.blocking: the time counts against the run),
turns the response into an `HttpResponse`, and logs every request. A transport failure is a
`Result.Err` carrying the message, as in Hot; a non-2xx status is an ordinary response.
"""

from __future__ import annotations

import codecs
import json
import time
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..calls import construct
from ..errors import Cancelled, HotError, HotRuntimeError, LimitExceeded
from ..hostcall import blocking, host_service, log, remaining_seconds
from ..jsonmap import from_json, to_json
from ..state import check_interrupts
from ..values import MISSING, Err, HotIter, TypedVal, hot_str, type_name
from .registry import LIB, lib

H = "::hot::http"
DEFAULT_TIMEOUT = 30.0


def redact(url):
    """url without user:password, for the run's log."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _fields(request):
    if request.__class__ is TypedVal:
        request = request.value
    if request.__class__ is not dict:
        raise HotRuntimeError(f"{H}/request: expected an HttpRequest, got {type_name(request)}")
    method = hot_str(request.get("method") or "GET").upper()
    url = request.get("url")
    if url.__class__ is not str:
        raise HotRuntimeError(f"{H}/request: the request has no url")
    query = request.get("query")
    if query:
        url += ("&" if "?" in url else "?") + urlencode({k: hot_str(v) for k, v in query.items()})
    headers = {hot_str(k): hot_str(v) for k, v in (request.get("headers") or {}).items()}
    return method, url, headers, request.get("body")


def _encode(body, headers):
    """The request body as bytes; Maps, Vecs and numbers are sent as JSON."""
    if body is None:
        return None
    has_type = any(k.lower() == "content-type" for k in headers)
    if body.__class__ is bytes:
        data, ctype = body, "application/octet-stream"
    elif body.__class__ is str:
        data, ctype = body.encode(), "text/plain; charset=utf-8"
    else:
        data, ctype = json.dumps(to_json(body)).encode(), "application/json"
    if not has_type:
        headers["Content-Type"] = ctype
    return data


def _decode(headers, data):
    """A response body as Hot sees it: parsed JSON, else text, else null (see body-bytes)."""
    ctype = headers.get("content-type", "")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "json" in ctype and text.strip():
        try:
            return from_json(json.loads(text))
        except ValueError:
            return text
    return text


def _exchange(method, url, headers, body):
    client = host_service("http_client", H)
    data = _encode(body, headers)
    started = time.monotonic()
    try:
        result = blocking(
            client.request, method, url, headers, data, remaining_seconds(DEFAULT_TIMEOUT)
        )
    except Exception as e:  # a transport failure is a Hot error value, never a crash
        if not _is_transport_error(e):
            raise
        check_interrupts()  # a timeout cut short by the run's own time limit is that limit
        log("warn", f"http {method} {redact(url)} failed after {_ms(started)} ms: {e}")
        return Err(f"{H}/request: {e}")
    hops = f" after {result.redirects} redirect(s)" if result.redirects else ""
    log("info", f"http {method} {redact(url)} -> {result.status}{hops} in {_ms(started)} ms")
    return construct(
        LIB[H]["HttpResponse"],
        [
            {
                "status": result.status,
                "headers": result.headers,
                "body": _decode(result.headers, result.body),
                "body-bytes": result.body,
            }
        ],
    )


def _is_transport_error(e):
    # what hostcall.blocking raises for the run itself (limits, cancellation) is not a failure
    # of the exchange
    return not isinstance(e, (Cancelled, LimitExceeded, HotError))


def _ms(started):
    return int((time.monotonic() - started) * 1000)


@lib(H, "request")
def request(req, url=MISSING, headers=None, body=None):
    if url is not MISSING:  # request(method, url, headers, body)
        req = {"method": req, "url": url, "headers": headers, "body": body}
    return _exchange(*_fields(req))


@lib(H, "get")
def get(url):
    return request({"method": "GET", "url": url})


@lib(H, "delete")
def delete(url):
    return request({"method": "DELETE", "url": url})


def _with_body(method):
    def send(url, body):
        return request({"method": method, "url": url, "body": body})

    return send


for _method in ("POST", "PUT", "PATCH"):
    lib(H, _method.lower())(_with_body(_method))


# -- streaming ---------------------------------------------------------------------------------
def _raw(chunks):
    decoder = codecs.getincrementaldecoder("utf-8")()
    for chunk in chunks:
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError:
            yield chunk
            continue
        if text:
            yield text


def _lines(chunks):
    pending = ""
    for text in _raw(chunks):
        pending += text if text.__class__ is str else text.decode("utf-8", "replace")
        *lines, pending = pending.split("\n")
        yield from lines
    if pending:
        yield pending


def _ndjson(chunks):
    for line in _lines(chunks):
        if line.strip():
            try:
                yield from_json(json.loads(line))
            except ValueError:
                yield line


def _sse(chunks):
    """Server-Sent Events as Maps {event, data, id} (data lines joined by newlines)."""
    event = {}
    for line in _lines(chunks):
        line = line.rstrip("\r")
        if not line:
            if "data" in event:
                yield {
                    "event": event.get("event", "message"),
                    "data": event["data"],
                    "id": event.get("id"),
                }
            event = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            event["data"] = f"{event['data']}\n{value}" if "data" in event else value
        elif name in ("event", "id"):
            event[name] = value
    if "data" in event:
        yield {"event": event.get("event", "message"), "data": event["data"], "id": event.get("id")}


_FORMATS = {"raw": _raw, "ndjson": _ndjson, "sse": _sse}


def _pull(chunks):
    """The host's chunks, each waited for interruptibly."""
    done = object()
    while True:
        chunk = blocking(next, chunks, done)
        if chunk is done:
            return
        yield chunk


def _open_stream(req, fmt="raw"):
    method, url, headers, body = _fields(req)
    fmt = hot_str(fmt)
    if fmt not in _FORMATS:
        raise HotRuntimeError(f"{H}/request-stream: unknown format {fmt!r} (sse, ndjson, raw)")
    client = host_service("http_client", H)
    data = _encode(body, headers)
    started = time.monotonic()
    try:
        status, resp_headers, _, chunks = blocking(
            client.stream, method, url, headers, data, remaining_seconds(DEFAULT_TIMEOUT)
        )
    except Exception as e:
        if not _is_transport_error(e):
            raise
        check_interrupts()
        log("warn", f"http {method} {redact(url)} (stream) failed after {_ms(started)} ms: {e}")
        return Err(f"{H}/request-stream: {e}")
    log("info", f"http {method} {redact(url)} (stream) -> {status} in {_ms(started)} ms")
    fields = {
        "status": status,
        "headers": resp_headers,
        "body": HotIter(_FORMATS[fmt](_pull(chunks))),
    }
    return construct(LIB[H]["StreamingHttpResponse"], [fields])


@lib(H, "request-stream")
def request_stream(req, *rest):
    if len(rest) <= 1:  # (request) or (request, format)
        return _open_stream(req, *rest)
    method, url, headers, body, *fmt = (req, *rest)
    return _open_stream({"method": method, "url": url, "headers": headers, "body": body}, *fmt)


@lib(H, "get-stream")
def get_stream(url, fmt="raw"):
    return _open_stream({"method": "GET", "url": url}, fmt)


@lib(H, "post-stream")
def post_stream(url, body, headers=None, fmt="raw"):
    return _open_stream({"method": "POST", "url": url, "headers": headers, "body": body}, fmt)
