"""Request body limits enforced in front of Django, before a byte is spooled or a key checked.

Django's ASGI handler reads a whole body into a temporary file before any middleware or view
runs, and under WSGI a chunked body reads as empty. So the limits live one layer out, as a thin
ASGI (and WSGI) wrapper over the same logic:

- a declared ``Content-Length`` above the route's limit is answered 413 at once, without
  reading the body (the connection is then closed);
- a chunked body (no ``Content-Length``) is counted while it is received, refused with 413 as
  soon as it passes the limit, and otherwise handed to Django with its length, so it reads
  like any other body (before, Django and DRF read it as empty).

The routes and their limits are a table (``BodyLimits``) built from the settings by
``hotapi.serving``; this module knows no app.
"""

import json
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass

from .exceptions import error_envelope
from .middleware import request_id_from_header

READ_SIZE = 64 * 1024


@dataclass(frozen=True)
class RouteLimit:
    max_bytes: int
    message: str
    path: re.Pattern | None = None  # None: every path
    methods: frozenset[str] = frozenset({"POST", "PUT", "PATCH"})

    def applies(self, method: str, path: str) -> bool:
        return method in self.methods and (self.path is None or bool(self.path.match(path)))


@dataclass(frozen=True)
class BodyLimits:
    """The first route limit that applies, else ``default``; chunked bodies are spooled in
    memory up to ``spool_memory_bytes``, then in ``spool_dir``."""

    default: RouteLimit
    routes: tuple[RouteLimit, ...] = ()
    spool_dir: str | None = None
    spool_memory_bytes: int = 256 * 1024

    def for_request(self, method: str, path: str) -> RouteLimit:
        return next((route for route in self.routes if route.applies(method, path)), self.default)

    def spool(self, limit: RouteLimit) -> "BodySpool":
        return BodySpool(limit.max_bytes, self.spool_memory_bytes, self.spool_dir)


class BodySpool:
    """A chunked body being received: counted, and kept only while within the limit."""

    def __init__(self, max_bytes: int, memory_bytes: int, spool_dir: str | None):
        self.max_bytes = max_bytes
        self.size = 0
        self.file = tempfile.SpooledTemporaryFile(max_size=memory_bytes, dir=spool_dir)

    def write(self, chunk: bytes) -> bool:
        """Keep ``chunk``; False (keeping nothing more) once the body passes the limit."""
        self.size += len(chunk)
        if self.size > self.max_bytes:
            return False
        self.file.write(chunk)
        return True

    def chunks(self) -> Iterable[bytes]:
        self.file.seek(0)
        while chunk := self.file.read(READ_SIZE):
            yield chunk

    def close(self) -> None:
        self.file.close()


def _parse_length(raw: str | None) -> int | None:
    if raw is None or not raw.strip().isdigit():
        return None  # servers refuse malformed lengths before the app sees them
    return int(raw)


def refusal(limit: RouteLimit, inbound_request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The 413 answer: status, headers and the API's error envelope."""
    request_id = request_id_from_header(inbound_request_id)
    body = json.dumps(error_envelope("payload_too_large", limit.message, request_id)).encode()
    headers = [
        ("content-type", "application/json"),
        ("content-length", str(len(body))),
        ("x-request-id", request_id),
        ("cache-control", "no-store"),
        ("connection", "close"),  # the unread body must not be taken for the next request
    ]
    return 413, headers, body


# --- ASGI ------------------------------------------------------------------------------------


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


class BodyLimitASGIMiddleware:
    def __init__(self, app, limits: BodyLimits):
        self.app = app
        self.limits = limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limits.for_request(scope["method"], scope["path"])
        declared = _parse_length(_header(scope, b"content-length"))
        if declared is not None and declared > limit.max_bytes:
            return await self._refuse(scope, send, limit)
        transfer_encoding = (_header(scope, b"transfer-encoding") or "").lower()
        if declared is not None or "chunked" not in transfer_encoding:
            return await self.app(scope, receive, send)
        spool = self.limits.spool(limit)
        try:
            if not await self._receive_within_limit(receive, spool):
                return await self._refuse(scope, send, limit)
            await self.app(_with_length(scope, spool.size), _replay(spool, receive), send)
        finally:
            spool.close()

    @staticmethod
    async def _receive_within_limit(receive, spool: BodySpool) -> bool:
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return True
            if not spool.write(message.get("body", b"")):
                return False
            if not message.get("more_body", False):
                return True

    @staticmethod
    async def _refuse(scope, send, limit: RouteLimit) -> None:
        status, headers, body = refusal(limit, _header(scope, b"x-request-id") or "")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode("latin-1")) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _with_length(scope, size: int) -> dict:
    headers = [
        (key, value)
        for key, value in scope["headers"]
        if key not in (b"transfer-encoding", b"content-length")
    ]
    headers.append((b"content-length", str(size).encode()))
    return {**scope, "headers": headers}


def _replay(spool: BodySpool, receive):
    """A ``receive`` that hands over the spooled body, then the client's later messages."""
    chunks = spool.chunks()
    pending = next(chunks, b"")

    async def replay():
        nonlocal pending
        if pending is None:
            return await receive()
        body, pending = pending, next(chunks, None)
        return {"type": "http.request", "body": body, "more_body": pending is not None}

    return replay


# --- WSGI ------------------------------------------------------------------------------------


class BodyLimitWSGIMiddleware:
    """The same limits for a WSGI server (which hands chunked bodies over de-chunked, with no
    ``CONTENT_LENGTH``)."""

    def __init__(self, app, limits: BodyLimits):
        self.app = app
        self.limits = limits

    def __call__(self, environ, start_response):
        limit = self.limits.for_request(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
        declared = _parse_length(environ.get("CONTENT_LENGTH") or None)
        if declared is not None and declared > limit.max_bytes:
            return self._refuse(environ, start_response, limit)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if declared is not None or not chunked:
            return self.app(environ, start_response)
        spool = self.limits.spool(limit)
        stream = environ["wsgi.input"]
        while chunk := stream.read(READ_SIZE):
            if not spool.write(chunk):
                spool.close()
                return self._refuse(environ, start_response, limit)
        spool.file.seek(0)
        environ["wsgi.input"] = spool.file
        environ["CONTENT_LENGTH"] = str(spool.size)
        return self.app(environ, start_response)

    @staticmethod
    def _refuse(environ, start_response, limit: RouteLimit):
        status, headers, body = refusal(limit, environ.get("HTTP_X_REQUEST_ID", ""))
        # PEP 3333 leaves hop-by-hop headers to the server.
        headers = [(k, v) for k, v in headers if k != "connection"]
        start_response(f"{status} Content Too Large", headers)
        return [body]
