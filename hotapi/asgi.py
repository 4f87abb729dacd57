"""ASGI entry point: Django behind the request body limits (``hotapi.api.bodylimits``)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
django_application = get_asgi_application()

from hotapi.api.bodylimits import BodyLimitASGIMiddleware  # noqa: E402  (needs settings)
from hotapi.serving import prepare_serving, request_body_limits  # noqa: E402

prepare_serving()
application = BodyLimitASGIMiddleware(django_application, request_body_limits())

# A long-lived server with many open streams allocates steadily; the default collector
# thresholds made full collections stall every connection for hundreds of milliseconds.
# Objects created during start-up are frozen out of collection, and collections run less often.
gc.freeze()
gc.set_threshold(50_000, 50, 100)
