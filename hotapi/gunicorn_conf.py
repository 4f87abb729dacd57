"""gunicorn settings for the REST API (``gunicorn -c python:hotapi.gunicorn_conf hotapi.wsgi``).

Sync workers, one per core by default (``HOT_WEB_WORKERS``): the API's views are sync, and on
the benchmark machine sync workers served the full stack 1.6× and a bare view 5× faster than
one ASGI process (bench/README.md); 4 workers on 2 cores were not faster than 2. The
server-sent-event endpoints are not served here: they run on the ASGI server
(``hotapi.asgi``), and the reverse proxy (or ``runhot``) routes them by path.

Listens on ``HOT_WSGI_BIND`` (default ``HOT_HOST:HOT_PORT``; ``unix:/path`` for a socket).
Behind a proxy, set ``FORWARDED_ALLOW_IPS`` to its address (as for uvicorn): the client address
and scheme are then taken from its ``X-Forwarded-For`` / ``X-Forwarded-Proto``
(``hotapi.serving.ProxyHeadersMiddleware``).
"""

import gc
import os

from gunicorn.http import wsgi as _gunicorn_wsgi

bind = [
    os.environ.get("HOT_WSGI_BIND")
    or f"{os.environ.get('HOT_HOST', '127.0.0.1')}:{os.environ.get('HOT_PORT', '4681')}"
]
workers = int(os.environ.get("HOT_WEB_WORKERS") or os.cpu_count() or 1)
worker_class = "sync"
# A build upload or a file body is streamed to storage by a worker: allow it time.
timeout = int(os.environ.get("HOT_WEB_TIMEOUT_SECONDS", "120"))
graceful_timeout = 10
accesslog = None  # the service logs one access line per request itself
# The API answers bodies up to the route's limit; headers stay small.
limit_request_line = 8190


_default_headers = _gunicorn_wsgi.Response.default_headers


def _without_server_header(self):
    # No version banner for scanners (as uvicorn --no-server-header).
    return [line for line in _default_headers(self) if not line.startswith("Server:")]


_gunicorn_wsgi.Response.default_headers = _without_server_header


# The collector runs rarely (``hotapi.wsgi`` raises its thresholds), so what a request leaves in
# reference cycles (Django's and DRF's request and response objects, and what they hold: the
# parsed body, the results) waits for it: a worker's heap grew by ~1 MiB per 500-event batch,
# to +22% after 18 batches (bench/README.md, "(6) Memory"). It cannot be collected after the
# request (``post_request`` runs while gunicorn still holds the response), so it is collected
# before the next one, once the young generation holds more than ``gc_between_requests``
# objects or a collection during a request promoted some (0: never). ~0.8 ms after a batch.
gc_between_requests = int(os.environ.get("HOT_WEB_GC_BETWEEN_REQUESTS", "2000"))


def on_starting(server):
    # A sync worker serves one request at a time on one thread: it keeps one database
    # connection from request to request (``post_worker_init``) and needs no pool. Without the
    # pool a connection dropped as broken is really closed; a pool could hand out another idle
    # connection that died in the same PostgreSQL restart. Set in the master before the workers
    # load the settings (not when this module is imported: a process that imports it to read
    # the hooks must not pass the setting on to the processes it starts).
    os.environ.setdefault("HOT_DB_POOL", "0")


def post_worker_init(worker):
    from hotapi.db import keep_connections_across_requests

    keep_connections_across_requests()


def pre_request(worker, req):
    from hotapi.db import keep_usable_connections

    keep_usable_connections()
    if gc_between_requests:
        young, promoted, _ = gc.get_count()
        if young > gc_between_requests or promoted:
            gc.collect(1)
