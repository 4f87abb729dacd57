"""Issuing, verifying and revoking API keys; bootstrapping the default environment; reserving
storage against the environment's quota."""

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hotapi.errors import TooLarge

from .models import ApiKey, Environment, Organization
from .usage import STORAGE_BYTES, usage

TOKEN_PATTERN = re.compile(r"^hot_([0-9a-f]{32})_([0-9a-f]{64})$")
DEFAULT_ORGANIZATION = "default"
DEFAULT_ENVIRONMENT = "development"
# last_used_at is advisory: refreshing it at most once a minute keeps authentication to a
# single indexed read on the hot path.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    token: str  # shown once, never stored


def secret_digest(secret_hex: str) -> str:
    pepper = settings.HOT_API_KEY_PEPPER.encode()
    return hmac.new(pepper, secret_hex.encode(), hashlib.sha256).hexdigest()


def api_key_seal(api_key: ApiKey) -> str:
    """Give an unsaved key a fresh id and secret; return the token (shown once)."""
    api_key.id = uuid.uuid4()
    secret_hex = secrets.token_hex(32)
    api_key.digest = secret_digest(secret_hex)
    return f"hot_{api_key.id.hex}_{secret_hex}"


def api_key_issue(*, environment: Environment, name: str = "") -> IssuedKey:
    api_key = ApiKey(environment=environment, name=name)
    token = api_key_seal(api_key)
    api_key.save(force_insert=True)
    return IssuedKey(api_key=api_key, token=token)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_authenticate(token: str) -> ApiKey | None:
    """The active key for ``token``, or None when it is malformed, unknown, revoked or its
    environment is inactive. One indexed query (primary key, joined to the environment)."""
    match = TOKEN_PATTERN.match(token)
    if match is None:
        return None
    key_hex, secret_hex = match.groups()
    try:
        api_key = ApiKey.objects.select_related("environment").get(pk=uuid.UUID(hex=key_hex))
    except ApiKey.DoesNotExist:
        return None
    if not hmac.compare_digest(api_key.digest, secret_digest(secret_hex)):
        return None
    if api_key.revoked_at is not None or not api_key.environment.active:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


@transaction.atomic
def environment_ensure(*, name: str, organization_name: str = DEFAULT_ORGANIZATION) -> Environment:
    organization, _ = Organization.objects.get_or_create(name=organization_name)
    environment, _ = Environment.objects.get_or_create(organization=organization, name=name)
    return environment


def storage_reserve(*, environment_id, size: int) -> None:
    """Make room for ``size`` more bytes of stored objects in the environment, or raise
    ``TooLarge`` (``storage_quota_exceeded``).

    Call it inside the transaction that records the stored object: the environment row stays
    locked until that commits, so concurrent uploads check and record one at a time and the
    quota holds (``FOR NO KEY UPDATE`` leaves foreign-key checks of other writers unblocked).
    What is stored is whatever the ``STORAGE_BYTES`` meters count, the new row included once
    it is saved."""
    environment = Environment.objects.select_for_update(no_key=True).get(pk=environment_id)
    used = int(usage(STORAGE_BYTES, environment=environment))
    if used + size > environment.storage_limit_bytes:
        raise TooLarge(
            f"Storing {size} bytes would exceed the environment's storage limit "
            f"({used} of {environment.storage_limit_bytes} bytes used)",
            code="storage_quota_exceeded",
        )
