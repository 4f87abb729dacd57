"""What every serving entry point (ASGI, WSGI) sets up around Django: the startup checks, the
cleanup of temporary files a killed process left, the request body limits per route, and (for
WSGI, where the server does not do it) the client address from a trusted proxy."""

import ipaddress
import re
import tempfile

from django.conf import settings

from builds.uploads import MULTIPART_OVERHEAD_BYTES, remove_orphaned_upload_files, too_large
from hotapi.api.bodylimits import BodyLimits, RouteLimit
from hotapi.checks import ensure_serving_configuration

UPLOAD_PATH = re.compile(r"^/(api/)?v1/projects/[^/]+/builds/?$")
# Event payloads may be large (documents, LLM context): they have their own limit.
EVENT_PATHS = re.compile(r"^/(api/)?v1/(events|events/batch|streams/subscribe-with-event)/?$")
# File bodies (a whole file, or one part of a multipart upload) are streamed to storage.
FILE_BODY_PATHS = re.compile(r"^/(api/)?v1/files/(upload/.+|uploads/[^/]+/[^/]+)$")
# Webhook calls take any method; their bodies have their own limit.
WEBHOOK_PATHS = re.compile(r"^/webhook/")


def request_body_limits() -> BodyLimits:
    upload_limit = settings.HOT_BUILD_MAX_BYTES
    json_limit = settings.HOT_MAX_JSON_BODY_BYTES
    event_limit = settings.HOT_MAX_EVENT_BODY_BYTES
    file_limit = settings.HOT_FILE_UPLOAD_MAX_BYTES
    webhook_limit = settings.HOT_WEBHOOK_MAX_BODY_BYTES
    return BodyLimits(
        default=RouteLimit(
            max_bytes=json_limit,
            message=f"Request body exceeds the maximum size of {json_limit} bytes",
        ),
        routes=(
            RouteLimit(
                path=UPLOAD_PATH,
                methods=frozenset({"POST"}),
                max_bytes=upload_limit + MULTIPART_OVERHEAD_BYTES,
                message=too_large(upload_limit).message,
            ),
            RouteLimit(
                path=EVENT_PATHS,
                methods=frozenset({"POST"}),
                max_bytes=event_limit,
                message=f"Request body exceeds the maximum size of {event_limit} bytes",
            ),
            RouteLimit(
                path=FILE_BODY_PATHS,
                methods=frozenset({"PUT"}),
                max_bytes=file_limit,
                message=f"Request body exceeds the maximum size of {file_limit} bytes; larger "
                "files are sent as a multipart upload (POST /v1/files/uploads)",
            ),
            RouteLimit(
                path=WEBHOOK_PATHS,
                methods=frozenset({"POST", "PUT", "PATCH", "DELETE", "GET"}),
                max_bytes=webhook_limit,
                message=f"Webhook request body exceeds the maximum size of {webhook_limit} bytes",
            ),
        ),
        spool_dir=settings.FILE_UPLOAD_TEMP_DIR,
        spool_memory_bytes=settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
    )


def prepare_serving() -> None:
    """Refuse unsafe configurations, then tidy what a killed predecessor left behind."""
    ensure_serving_configuration()
    # Django spools request bodies to the default temp dir, which may be memory-backed.
    tempfile.tempdir = settings.FILE_UPLOAD_TEMP_DIR
    remove_orphaned_upload_files()


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
