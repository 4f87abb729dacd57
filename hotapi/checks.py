"""Startup checks for serving processes (web, worker): refuse unsafe configurations."""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from secrets_app.crypto import keyring

log = logging.getLogger("hotapi")


def ensure_shared_secrets() -> None:
    """With DEBUG off, SECRET_KEY and HOT_API_KEY_PEPPER must come from the environment: a
    value generated into one host's data directory differs from the next host's, and each would
    refuse the API keys (and sessions) the other issued."""
    if settings.DEBUG:
        return
    missing = [
        name
        for name, generated in (
            ("SECRET_KEY", settings.SECRET_KEY_GENERATED),
            ("HOT_API_KEY_PEPPER", settings.HOT_API_KEY_PEPPER_GENERATED),
        )
        if generated
    ]
    if missing:
        raise ImproperlyConfigured(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required when "
            "DEBUG is off: set the same value on every host (for example "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'). To keep API keys "
            "issued before, set HOT_API_KEY_PEPPER to the SECRET_KEY they were issued under."
        )


def ensure_serving_configuration() -> None:
    """Called when a server or worker starts (not on import, so tooling still works)."""
    ensure_shared_secrets()
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
