"""Request body limits hold before any work (reliability review D7, I16, I17).

Against a live ASGI server: an oversized body is refused from its Content-Length before it is
read (and before authentication), a chunked body is counted as it arrives and, within the
limit, read like any other. The WSGI wrapper applies the same table.
"""

import io
import json
import socket

import httpx
import pytest
from django.core.wsgi import get_wsgi_application

from environments.services import api_key_issue
from hotapi.api.bodylimits import BodyLimitWSGIMiddleware
from hotapi.serving import request_body_limits
from projects.models import Project
from tests import bundles

pytestmark = [pytest.mark.django_db(transaction=True)]


def _raw_exchange(port: int, head: str, body: bytes = b"", timeout: float = 10) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode() + body)
        received = []
        while chunk := sock.recv(65536):  # the server closes the connection after answering
            received.append(chunk)
    return b"".join(received).decode()


@pytest.mark.slow
def test_unauthenticated_huge_post_is_refused_before_the_body_is_read(hot_server):
    # Before, the server read the whole declared body (to disk) and only then answered 401.
    head = (
        "POST /v1/events HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{hot_server.port}\r\n"
        "Content-Type: application/json\r\n"
        "X-Request-Id: probe-huge-body-1\r\n"
        f"Content-Length: {512 * 1024**2}\r\n\r\n"
    )
    response = _raw_exchange(hot_server.port, head)  # no body is ever sent
    assert response.startswith("HTTP/1.1 413")
    body = json.loads(response.split("\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "payload_too_large"
    assert body["error"]["request_id"] == "probe-huge-body-1"
    assert "x-request-id: probe-huge-body-1" in response.lower()


@pytest.fixture
def token(environment):
    return api_key_issue(environment=environment, name="limits").token


def _chunks(data: bytes, size: int = 1000):
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.slow
def test_chunked_json_body_is_read(hot_server, token):
    body = json.dumps({"event_type": "chunked.ev", "event_data": {"n": list(range(500))}})
    response = httpx.post(
        f"{hot_server.url}/v1/events",
        content=_chunks(body.encode()),  # an iterator: httpx sends Transfer-Encoding: chunked
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["event_data"] == {"n": list(range(500))}


@pytest.mark.slow
def test_chunked_body_over_the_limit_is_413_and_stores_nothing(hot_server, token):
    padding = "x" * (1024 * 1024 + 10)  # over HOT_MAX_JSON_BODY_BYTES (events may be larger)
    body = json.dumps({"name": "chunked-big", "padding": padding}).encode()
    response = httpx.post(
        f"{hot_server.url}/v1/projects",
        content=_chunks(body, 64 * 1024),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not Project.objects.filter(name="chunked-big").exists()


@pytest.mark.slow
def test_chunked_build_upload_is_read(hot_server, token, project):
    data, bundle_hash = bundles.make_bundle()
    request = httpx.Request(
        "POST",
        f"{hot_server.url}/v1/projects/{project.name}/builds",
        files={"file": ("bundle.hot.zip", io.BytesIO(data), "application/zip")},
        data={"hash": bundle_hash},
        headers={"Authorization": f"Bearer {token}"},
    )
    encoded = request.read()
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    response = httpx.post(request.url, content=_chunks(encoded, 4096), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["size"] == len(data)


def _wsgi_call(app, *, path: str, body: bytes, headers: dict) -> tuple[str, dict, bytes]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        **headers,
    }
    outcome = {}

    def start_response(status, response_headers, exc_info=None):
        outcome["status"], outcome["headers"] = status, dict(response_headers)

    content = b"".join(app(environ, start_response))
    return outcome["status"], outcome["headers"], content


def test_wsgi_wrapper_applies_the_same_limits(token):
    app = BodyLimitWSGIMiddleware(get_wsgi_application(), request_body_limits())
    too_big = {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(512 * 1024**2)}
    status, headers, content = _wsgi_call(app, path="/v1/events", body=b"", headers=too_big)
    assert status.startswith("413")
    assert json.loads(content)["error"]["code"] == "payload_too_large"
    assert headers["x-request-id"]

    body = json.dumps({"event_type": "wsgi.chunked", "event_data": [1, 2]}).encode()
    chunked = {
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
    }
    status, _, content = _wsgi_call(app, path="/v1/events", body=body, headers=chunked)
    assert status.startswith("201"), content
    assert json.loads(content)["data"]["event_data"] == [1, 2]

    oversized = json.dumps({"name": "a", "padding": "y" * (1024 * 1024)}).encode()
    status, _, _ = _wsgi_call(app, path="/v1/projects", body=oversized, headers=chunked)
    assert status.startswith("413")
