"""WSGI entry point for the REST API (the SSE endpoints need ASGI: ``hotapi.asgi``), behind the
same safeguards as ``hotapi.asgi``: the request body limits with their early 413, the start-up
checks, and the client address from a trusted proxy's headers (uvicorn's ``--proxy-headers``)."""

import gc
import ipaddress
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
django_application = get_wsgi_application()

from hotapi.api.bodylimits import BodyLimitWSGIMiddleware  # noqa: E402  (needs settings)
from hotapi.serving import prepare_serving, request_body_limits  # noqa: E402


class ProxyHeadersMiddleware:
    """``REMOTE_ADDR`` and the scheme from ``X-Forwarded-For`` / ``X-Forwarded-Proto`` when the
    connection comes from a trusted proxy: ``FORWARDED_ALLOW_IPS`` (addresses or networks,
    comma-separated, ``*`` for any; default 127.0.0.1), or a Unix socket. The client is the
    right-most forwarded address that is not itself a trusted proxy, as uvicorn decides."""

    def __init__(self, app, trusted: str):
        self.app = app
        entries = [entry.strip() for entry in trusted.split(",") if entry.strip()]
        self.trust_all = "*" in entries
        self.networks = [ipaddress.ip_network(e, strict=False) for e in entries if e != "*"]

    def _trusted(self, address: str) -> bool:
        if self.trust_all or not address:  # no address: a Unix socket, i.e. a local proxy
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self._trusted(environ.get("REMOTE_ADDR", "")):
            forwarded = environ.get("HTTP_X_FORWARDED_FOR")
            if forwarded:
                hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
                client = next((hop for hop in reversed(hops) if not self._trusted(hop)), None)
                environ["REMOTE_ADDR"] = client or hops[0]
            scheme = environ.get("HTTP_X_FORWARDED_PROTO", "").strip().lower()
            if scheme in ("http", "https"):
                environ["wsgi.url_scheme"] = scheme
        return self.app(environ, start_response)


prepare_serving()
application = ProxyHeadersMiddleware(
    BodyLimitWSGIMiddleware(django_application, request_body_limits()),
    os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
)

# As in hotapi.asgi: objects created during start-up are frozen out of collection, and
# collections run less often (full collections stalled requests for hundreds of ms).
gc.freeze()
gc.set_threshold(50_000, 50, 100)
