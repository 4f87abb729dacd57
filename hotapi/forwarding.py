"""One port for two servers: the ASGI process keeps the server-sent-event streams and the
webhook and MCP routes (``ASGI_PATHS``) and forwards every other request to the REST API's
WSGI server (``HOT_REST_UPSTREAM``).

``runhot`` uses this to serve everything on one port with the REST API on gunicorn's sync
workers: a stream needs an event loop (ASGI), while a sync view under ASGI pays a thread hop per
request that cost the full stack ~70% of its throughput (bench/README.md). In production a
reverse proxy routes by path instead (README, compose.yaml) and this module is not used.

Forwarding is plain HTTP/1.1 over a Unix socket (or TCP), streamed both ways: the request body
as it arrives (already within its route's limit: ``BodyLimitASGIMiddleware`` runs first), the
response as the upstream writes it. The client's address and scheme travel as
``X-Forwarded-For`` / ``X-Forwarded-Proto``, replacing whatever the client sent, and the WSGI
side trusts them only from a Unix socket or a ``FORWARDED_ALLOW_IPS`` address.
"""

import asyncio
import json
import logging
import re

import httptools

log = logging.getLogger(__name__)

# What the ASGI server keeps: the SSE endpoints (and their /api/v1 twins) —
# /v1/streams/{id}/subscribe, /v1/streams/subscribe-with-event, /v1/env/subscribe,
# /v1/runs/{id}/subscribe, /v1/tasks/{id}/subscribe — and the public ingress, /webhook/... and
# /mcp/..., whose requests wait for a run (and MCP's legacy transport holds a stream open): on
# one of the few sync workers each such wait would hold the whole worker. The reverse proxy
# recipes use the same expressions.
ASGI_PATHS = re.compile(
    r"^/(api/)?v1/(.+/)?subscribe(-with-event)?/?$"
    r"|^/(webhook|mcp)(/|$)"
)

READ_SIZE = 64 * 1024
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        # uvicorn answered any "Expect: 100-continue" itself; the upstream must not send a 100.
        b"expect",
    }
)

# The ASGI server writes its own Date (and, without --no-server-header, Server).
RESPONSE_DROPPED = HOP_BY_HOP | {b"date", b"server"}


class _Response:
    """httptools callbacks for one upstream response: what to send to the client, in order."""

    def __init__(self):
        self.headers: list[tuple[bytes, bytes]] = []
        self.started = False
        self.body: list[bytes] = []
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() not in RESPONSE_DROPPED:
            self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.started = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


class ForwardingApplication:
    """``streams`` (the Django ASGI app) answers the SSE paths and HTTP-less scopes; every
    other HTTP request goes to ``upstream`` (``unix:/path`` or ``host:port``), one connection
    per request (gunicorn's sync workers close it after the response anyway)."""

    def __init__(self, streams, upstream: str):
        self.streams = streams
        if upstream.startswith("unix:"):
            path = upstream.removeprefix("unix:")
            self._connect = lambda: asyncio.open_unix_connection(path, limit=READ_SIZE)
        else:
            host, _, port = upstream.removeprefix("http://").rstrip("/").rpartition(":")
            self._connect = lambda: asyncio.open_connection(host, int(port), limit=READ_SIZE)
        self.upstream = upstream

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or ASGI_PATHS.match(scope["path"]):
            await self.streams(scope, receive, send)
            return
        try:
            reader, writer = await self._connect()
        except OSError as exc:
            log.error("The REST API server at %s did not answer: %s", self.upstream, exc)
            await _bad_gateway(send)
            return
        try:
            await self._exchange(scope, receive, send, reader, writer)
        finally:
            writer.close()

    async def _exchange(self, scope, receive, send, reader, writer) -> None:
        writer.write(_request_head(scope))
        if _has_body(scope):
            async for chunk in _body(receive):
                writer.write(chunk)
                await writer.drain()
        response = _Response()
        parser = httptools.HttpResponseParser(response)
        started = False
        while not response.complete:
            data = await reader.read(READ_SIZE)
            if not data:
                break
            parser.feed_data(data)
            if response.started and not started:
                started = True
                status = parser.get_status_code()
                message = {"type": "http.response.start", "status": status}
                await send({**message, "headers": response.headers})
            for chunk in response.body:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            response.body.clear()
        if not started:
            log.error("The REST API server at %s closed without a response", self.upstream)
            await _bad_gateway(send)
            return
        await send({"type": "http.response.body", "body": b""})


def _target(scope) -> str:
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string") or b""
    return (path + b"?" + query if query else path).decode("latin-1")


def _request_head(scope) -> bytes:
    lines = [f"{scope['method']} {_target(scope)} HTTP/1.1".encode()]
    lines.extend(k + b": " + v for k, v in scope["headers"] if k not in HOP_BY_HOP)
    client = scope.get("client")
    if client:
        lines.append(b"x-forwarded-for: " + client[0].encode())
    lines.append(b"x-forwarded-proto: " + scope.get("scheme", "http").encode())
    lines.append(b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _has_body(scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
    return False


async def _body(receive):
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        if message.get("body"):
            yield message["body"]
        if not message.get("more_body"):
            return


async def _bad_gateway(send):
    body = json.dumps(
        {
            "error": {
                "code": "unavailable",
                "message": "The API server is not answering; retry shortly",
                "request_id": "",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 502,
            "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1")],
        }
    )
    await send({"type": "http.response.body", "body": body})
