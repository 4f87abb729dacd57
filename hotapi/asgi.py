"""ASGI entry point: Django behind the request body limits (``hotapi.api.bodylimits``).

With ``HOT_REST_UPSTREAM`` set (``unix:/path`` or ``host:port``: the REST API's WSGI
server), this process answers only the server-sent-event streams itself and forwards every
other request there (``hotapi.forwarding``): how ``runhot`` serves both on one port."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
django_application = get_asgi_application()

from hotapi.api.bodylimits import BodyLimitASGIMiddleware  # noqa: E402  (needs settings)
from hotapi.forwarding import ForwardingApplication  # noqa: E402
from hotapi.serving import prepare_serving, request_body_limits  # noqa: E402

prepare_serving()
_upstream = os.environ.get("HOT_REST_UPSTREAM")
application = BodyLimitASGIMiddleware(
    ForwardingApplication(django_application, _upstream) if _upstream else django_application,
    request_body_limits(),
)

# A long-lived server with many open streams allocates steadily; the default collector
# thresholds made full collections stall every connection for hundreds of milliseconds.
# Objects created during start-up are frozen out of collection, and collections run less often.
gc.freeze()
gc.set_threshold(50_000, 50, 100)
