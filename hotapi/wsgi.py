"""WSGI entry point (REST only: the SSE endpoints need ASGI), behind the same request body
limits as ``hotapi.asgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
django_application = get_wsgi_application()

from hotapi.api.bodylimits import BodyLimitWSGIMiddleware  # noqa: E402  (needs settings)
from hotapi.serving import prepare_serving, request_body_limits  # noqa: E402

prepare_serving()
application = BodyLimitWSGIMiddleware(django_application, request_body_limits())
