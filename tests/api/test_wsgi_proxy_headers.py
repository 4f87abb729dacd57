"""The WSGI entry point takes the client's address and scheme from a trusted proxy's
headers, as uvicorn's --proxy-headers does for the ASGI one (the address feeds the
unauthenticated-request throttle and the admin's login lockouts)."""

import pytest

from hotapi.serving import ProxyHeadersMiddleware


def _seen(trusted: str, remote: str, **headers) -> dict:
    seen = {}

    def app(environ, start_response):
        seen.update(addr=environ["REMOTE_ADDR"], scheme=environ["wsgi.url_scheme"])
        return [b""]

    environ = {"REMOTE_ADDR": remote, "wsgi.url_scheme": "http", **headers}
    ProxyHeadersMiddleware(app, trusted)(environ, lambda *a: None)
    return seen


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "client"),
    [
        ("127.0.0.1", "127.0.0.1", "203.0.113.9", "203.0.113.9"),  # the local proxy
        ("127.0.0.1", "", "203.0.113.9", "203.0.113.9"),  # a Unix socket: runhot's forwarder
        ("10.0.0.0/8", "10.1.2.3", "203.0.113.9, 10.0.0.7", "203.0.113.9"),  # proxy chain
        ("*", "192.0.2.1", "198.51.100.4", "198.51.100.4"),
        # Not from a trusted proxy: what the client claims is ignored.
        ("127.0.0.1", "192.0.2.1", "203.0.113.9", "192.0.2.1"),
        # A client's own X-Forwarded-For before the proxy's entry is not believed.
        ("127.0.0.1", "127.0.0.1", "1.2.3.4, 203.0.113.9", "203.0.113.9"),
    ],
)
def test_the_client_address_comes_from_a_trusted_proxy_only(trusted, remote, forwarded, client):
    assert _seen(trusted, remote, HTTP_X_FORWARDED_FOR=forwarded)["addr"] == client


def test_the_scheme_comes_from_a_trusted_proxy_only():
    assert _seen("127.0.0.1", "127.0.0.1", HTTP_X_FORWARDED_PROTO="https")["scheme"] == "https"
    assert _seen("127.0.0.1", "192.0.2.1", HTTP_X_FORWARDED_PROTO="https")["scheme"] == "http"
