"""runhot's one port: the ASGI process answers the SSE paths itself and forwards every other
request to the REST API's server (hotapi/forwarding.py), here a stand-in upstream on a Unix
socket that records what it received."""

import asyncio
import tempfile
from pathlib import Path

from hotapi.forwarding import ASGI_PATHS, ForwardingApplication


async def _call(app, scope: dict, body: bytes = b"") -> tuple[dict, bytes]:
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def _scope(method: str, path: str, headers: list, query: bytes = b"") -> dict:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": headers,
        "client": ("203.0.113.9", 5555),
        "scheme": "https",
    }


def test_rest_requests_are_forwarded_and_streams_stay():
    received = []

    async def upstream(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            ),
            0,
        )
        received.append((head, await reader.readexactly(length)))
        writer.write(
            b"HTTP/1.1 201 Created\r\nServer: gunicorn\r\nConnection: close\r\n"
            b"Transfer-Encoding: chunked\r\nX-Request-Id: r1\r\n\r\n"
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
        await writer.drain()
        writer.close()

    async def streams(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"stream"})

    async def main():
        with tempfile.TemporaryDirectory() as directory:
            socket_path = str(Path(directory) / "rest.sock")
            server = await asyncio.start_unix_server(upstream, socket_path)
            app = ForwardingApplication(streams, f"unix:{socket_path}")
            headers = [
                (b"host", b"api.example.com"),
                (b"content-length", b"7"),
                (b"x-forwarded-for", b"6.6.6.6"),  # the client's claim is replaced
                (b"connection", b"keep-alive"),
                (b"expect", b"100-continue"),  # answered by the ASGI server already
            ]
            rest = await _call(app, _scope("POST", "/v1/projects", headers, b"limit=1"), b'{"a":1}')
            stream = await _call(app, _scope("GET", "/v1/env/subscribe", []))
            server.close()
            # Nothing listens any more: 502 with the error envelope.
            gone = await _call(app, _scope("GET", "/v1/env", []))
            return rest, stream, gone

    rest, stream, gone = asyncio.run(main())
    (start, body) = rest
    assert start["status"] == 201 and body == b"hello world"
    names = [name for name, _ in start["headers"]]
    assert b"x-request-id" in names
    assert not {b"server", b"connection", b"transfer-encoding"} & set(names)
    head, sent_body = received[0]
    assert head.startswith(b"POST /v1/projects?limit=1 HTTP/1.1\r\n") and sent_body == b'{"a":1}'
    assert b"host: api.example.com" in head and b"connection: close" in head
    assert b"x-forwarded-for: 203.0.113.9" in head and b"6.6.6.6" not in head
    assert b"x-forwarded-proto: https" in head and b"expect" not in head
    assert stream[0]["status"] == 200 and stream[1] == b"stream" and len(received) == 1
    assert gone[0]["status"] == 502 and b'"unavailable"' in gone[1]


def test_the_paths_the_asgi_server_keeps():
    for path in (
        "/webhook/default/development/orders/new/0123abcd",
        "/mcp/default/development/tools",
        "/mcp/tools/messages",
        "/v1/streams/0b0e/subscribe",
        "/v1/streams/subscribe-with-event",
        "/v1/env/subscribe",
        "/api/v1/runs/r1/subscribe",
        "/v1/tasks/t1/subscribe",
    ):
        assert ASGI_PATHS.match(path), path
    for path in (
        "/v1/env",
        "/v1/streams",
        "/v1/projects/subscribe-x",
        "/admin/subscribe",
        "/webhooks",
        "/v1/projects/p/webhooks",
        "/mcpx",
    ):
        assert not ASGI_PATHS.match(path), path
