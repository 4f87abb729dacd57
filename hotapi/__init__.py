"""The Hot API service: settings, root URLs, the Celery app and the shared API core."""

from .celery import app as celery_app
from .version import __version__

__all__ = ["celery_app", "__version__"]
