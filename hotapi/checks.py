"""Startup checks for serving processes (web, worker): refuse unsafe configurations."""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from secrets_app.crypto import keyring

log = logging.getLogger("hotapi")


def ensure_serving_configuration() -> None:
    """Called when a server or worker starts (not on import, so tooling still works)."""
    if not settings.HOT_ENCRYPTION_KEY:
        raise ImproperlyConfigured(
            "HOT_ENCRYPTION_KEY is required when DEBUG is off: set it to 64 hex characters "
            "(python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    keyring()  # validates the format of every configured key
    if settings.HOT_ENCRYPTION_KEY_GENERATED:
        log.warning(
            "HOT_ENCRYPTION_KEY is not set; using a generated local key in the data directory. "
            "Set HOT_ENCRYPTION_KEY for any shared or production deployment."
        )
