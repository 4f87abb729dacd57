"""A real HTTP server on loopback for tests of outbound HTTP: JSON, streaming, slow, huge,
failing, redirecting (to itself, in a loop, or to a private or metadata address)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        return None

    def _send(self, status, body: bytes, ctype="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status, data, headers=()):
        self._send(status, json.dumps(data).encode(), headers=headers)

    def do_GET(self):  # noqa: C901 - one branch per route
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.seen.append(("GET", self.path, dict(self.headers)))
        route = url.path
        if route == "/json":
            self._json(200, {"name": "Ada", "tags": ["x", "y"], "n": 3})
        elif route == "/text":
            self._send(200, b"plain words", "text/plain")
        elif route == "/slow":
            time.sleep(float(q.get("s", "1")))
            self._json(200, {"slept": float(q.get("s", "1"))})
        elif route == "/huge":
            self._send(200, b"x" * int(q.get("n", "2000000")), "text/plain")
        elif route == "/fail":
            self._json(503, {"error": "unavailable"})
        elif route == "/redirect":
            self._send(302, b"", headers=[("Location", q.get("to", "/json"))])
        elif route == "/loop":
            self._send(302, b"", headers=[("Location", "/loop")])
        elif route == "/ndjson":
            self._chunked(b"".join(json.dumps({"i": i}).encode() + b"\n" for i in range(3)))
        elif route == "/sse":
            self._chunked(b"event: tick\ndata: one\n\ndata: two\nid: 2\n\n", "text/event-stream")
        else:
            self._json(404, {"error": "no route"})

    def _chunked(self, body, ctype="application/x-ndjson"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(0, len(body), 7):
            part = body[i : i + 7]
            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.seen.append(("POST", self.path, dict(self.headers)))
        self._json(201, {"got": json.loads(body or b"null"), "type": self.headers["Content-Type"]})


class LocalHttpServer:
    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.seen = []
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def seen(self):
        return self.server.seen

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
