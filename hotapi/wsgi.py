"""WSGI entry point for the REST API (the SSE endpoints need ASGI: ``hotapi.asgi``), behind the
same safeguards as ``hotapi.asgi``: the request body limits with their early 413, the start-up
checks, and the client address from a trusted proxy's headers (uvicorn's ``--proxy-headers``)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
django_application = get_wsgi_application()

from hotapi.api.bodylimits import BodyLimitWSGIMiddleware  # noqa: E402  (needs settings)
from hotapi.serving import (  # noqa: E402
    ProxyHeadersMiddleware,
    prepare_serving,
    request_body_limits,
)

prepare_serving()
application = ProxyHeadersMiddleware(
    BodyLimitWSGIMiddleware(django_application, request_body_limits()),
    os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
)

# As in hotapi.asgi: objects created during start-up are frozen out of collection, and
# collections run less often (full collections stalled requests for hundreds of ms).
gc.freeze()
gc.set_threshold(50_000, 50, 100)
