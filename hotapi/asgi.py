import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
application = get_asgi_application()

from hotapi.checks import ensure_serving_configuration  # noqa: E402  (needs apps loaded)

ensure_serving_configuration()
