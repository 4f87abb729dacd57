"""Credentials: issuing, verifying and revoking API keys, sessions and service keys;
bootstrapping the default environment; reserving storage against the environment's quota.

Every token is ``<id hex>_<secret hex>`` behind a prefix that names its kind (``hot_`` API
key, ``s_`` session, none for a white-label service key). Only an HMAC of the secret is stored,
verified with a constant-time compare after one indexed read of the row joined to what it
depends on. Revocation of each kind goes through one function (``api_key_revoke``,
``sessions_revoke``, ``service_keys_revoke``), so anything that caches verified credentials
has one place to hear about it.
"""

import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from hotapi.access import (
    API_KEY,
    SERVICE_KEY,
    SERVICE_KEY_TYPES,
    SESSION,
    Credential,
    Permissions,
)
from hotapi.errors import Conflict, InvalidInput, LimitExceeded, TooLarge

from . import credential_cache
from .models import ApiKey, Environment, Organization, ServiceKey, Session
from .usage import STORAGE_BYTES, usage

TOKEN_PATTERN = re.compile(r"^hot_([0-9a-f]{32})_([0-9a-f]{64})$")
SESSION_TOKEN_PATTERN = re.compile(r"^s_([0-9a-f]{32})_([0-9a-f]{32})$")
SERVICE_KEY_TOKEN_PATTERN = re.compile(r"^([0-9a-f]{32})_([0-9a-f]{32})$")
DEFAULT_ORGANIZATION = "default"
DEFAULT_ENVIRONMENT = "development"
# last_used_at is advisory: refreshing it at most once a minute keeps authentication to a
# single indexed read on the hot path.
LAST_USED_RESOLUTION = timedelta(seconds=60)
# Metadata labels a credential (a customer id, a purpose); it is not a document store.
METADATA_MAX_BYTES = 16 * 1024


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    token: str  # shown once, never stored


@dataclass(frozen=True)
class IssuedSession:
    session: Session
    token: str


@dataclass(frozen=True)
class IssuedServiceKey:
    service_key: ServiceKey
    token: str


def secret_digest(secret_hex: str) -> str:
    pepper = settings.HOT_API_KEY_PEPPER.encode()
    return hmac.new(pepper, secret_hex.encode(), hashlib.sha256).hexdigest()


def _seal(row, *, prefix: str, secret_bytes: int) -> str:
    """Give an unsaved credential a fresh id and secret; return the token (shown once)."""
    row.id = uuid.uuid4()  # random, not time-ordered: the id is part of the token
    secret_hex = secrets.token_hex(secret_bytes)
    row.digest = secret_digest(secret_hex)
    return f"{prefix}{row.id.hex}_{secret_hex}"


def api_key_seal(api_key: ApiKey) -> str:
    """Give an unsaved key a fresh id and secret; return the token (shown once)."""
    return _seal(api_key, prefix="hot_", secret_bytes=32)


def api_key_issue(*, environment: Environment, name: str = "", permissions=None) -> IssuedKey:
    api_key = ApiKey(environment=environment, name=name)
    if permissions is not None:
        api_key.permissions = Permissions.parse(permissions).as_json()
    token = api_key_seal(api_key)
    api_key.save(force_insert=True)
    return IssuedKey(api_key=api_key, token=token)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke the key. Its sessions and service keys stop working with it: authentication
    checks the issuing key of every session and service key."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def _touch(model, row, now) -> None:
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        model.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now


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
    _touch(ApiKey, api_key, timezone.now())
    return api_key


def _issued_authenticate(model, pattern: re.Pattern, token: str):
    """A session or service key for ``token`` if it, its issuing API key and its environment
    are all active. One indexed query (primary key, joined to the key and the environment)."""
    match = pattern.match(token)
    if match is None:
        return None
    row_hex, secret_hex = match.groups()
    try:
        row = model.objects.select_related("api_key", "environment").get(pk=uuid.UUID(hex=row_hex))
    except model.DoesNotExist:
        return None
    if not hmac.compare_digest(row.digest, secret_digest(secret_hex)):
        return None
    now = timezone.now()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    if row.api_key.revoked_at is not None or not row.environment.active:
        return None
    _touch(model, row, now)
    return row


def credential_cached(token: str) -> Credential | None:
    """The credential this process verified for ``token`` recently, if it still holds."""
    if not credential_cache.enabled():
        return None
    entry = credential_cache.lookup(token)
    return None if entry is None else entry.credential


def credential_authenticate(token: str) -> Credential | None:
    """Who ``token`` is, or None, from the database. Dispatch by prefix: ``s_`` session,
    ``hot_`` API key, and a bare ``<id>_<secret>`` service key. A session or service key can
    never do more than its issuing API key can do now: both maps must allow a request.

    The answer is remembered in this process's credential cache (when enabled) under the
    cache's generation read before the database (``credential_cached`` looks it up)."""
    if not credential_cache.enabled():
        return _credential_from_database(token)[0]
    read_in = credential_cache.generation()
    credential, expires_at = _credential_from_database(token)
    if credential is not None:
        credential_cache.store(token, credential, read_in, expires_at)
    return credential


def _credential_from_database(token: str):
    if token.startswith("s_"):
        kind, row = SESSION, _issued_authenticate(Session, SESSION_TOKEN_PATTERN, token)
    elif token.startswith("hot_"):
        api_key = api_key_authenticate(token)
        if api_key is None:
            return None, None
        credential = Credential(
            kind=API_KEY,
            id=api_key.id,
            environment=api_key.environment,
            api_key=api_key,
            permissions=Permissions.from_stored(api_key.permissions),
        )
        return credential, None
    else:
        kind, row = SERVICE_KEY, _issued_authenticate(ServiceKey, SERVICE_KEY_TOKEN_PATTERN, token)
    if row is None:
        return None, None
    credential = Credential(
        kind=kind,
        id=row.id,
        environment=row.environment,
        api_key=row.api_key,
        permissions=Permissions.from_stored(row.permissions),
        parent_permissions=Permissions.from_stored(row.api_key.permissions),
    )
    return credential, row.expires_at


def _checked_metadata(metadata):
    if metadata is not None:
        size = len(json.dumps(metadata, separators=(",", ":")).encode())
        if size > METADATA_MAX_BYTES:
            raise InvalidInput(
                f"metadata is {size} bytes; at most {METADATA_MAX_BYTES} are kept",
                details={"metadata": [f"at most {METADATA_MAX_BYTES} bytes of JSON"]},
            )
    return metadata


def _granted(api_key: ApiKey, permissions, *, allowed_types=None) -> dict:
    requested = Permissions.parse(permissions, allowed_types=allowed_types)
    requested.check_subset_of(Permissions.from_stored(api_key.permissions))
    return requested.as_json()


def _active_sessions(api_key: ApiKey, now) -> models.QuerySet[Session]:
    return Session.objects.filter(api_key=api_key, revoked_at__isnull=True, expires_at__gt=now)


def session_create(
    *, api_key: ApiKey, permissions, metadata=None, expires_in: int | None = None
) -> IssuedSession:
    """Mint a session of ``api_key`` with at most its permissions, for ``expires_in``
    seconds (default and maximum: ``HOT_SESSION_DEFAULT_SECONDS``, ``HOT_SESSION_MAX_SECONDS``).
    At most ``HOT_SESSIONS_PER_API_KEY`` may be active at once per key (429 beyond)."""
    granted = _granted(api_key, permissions)
    lifetime = settings.HOT_SESSION_DEFAULT_SECONDS if expires_in is None else expires_in
    if not 1 <= lifetime <= settings.HOT_SESSION_MAX_SECONDS:
        message = f"expires_in must be 1 to {settings.HOT_SESSION_MAX_SECONDS} seconds"
        raise InvalidInput(message, details={"expires_in": [message]})
    with transaction.atomic():
        # Serializes session creation per key, so the cap holds under concurrency.
        ApiKey.objects.select_for_update().filter(pk=api_key.pk).exists()
        now = timezone.now()
        if _active_sessions(api_key, now).count() >= settings.HOT_SESSIONS_PER_API_KEY:
            raise LimitExceeded(
                f"This API key has {settings.HOT_SESSIONS_PER_API_KEY} active sessions, the "
                "maximum; revoke some first",
                code="session_limit_exceeded",
            )
        session = Session(
            api_key=api_key,
            environment_id=api_key.environment_id,
            permissions=granted,
            metadata=_checked_metadata(metadata),
            expires_at=now + timedelta(seconds=lifetime),
        )
        token = _seal(session, prefix="s_", secret_bytes=16)
        session.save(force_insert=True)
    return IssuedSession(session=session, token=token)


def sessions_revoke(*, sessions: models.QuerySet[Session]) -> list[uuid.UUID]:
    """Revoke every active session of ``sessions`` at once; the ids revoked."""
    now = timezone.now()
    active = sessions.filter(revoked_at__isnull=True, expires_at__gt=now)
    revoked = list(active.values_list("pk", flat=True))
    if revoked:
        Session.objects.filter(pk__in=revoked, revoked_at__isnull=True).update(revoked_at=now)
        credential_cache.credentials_changed()
    return revoked


def session_revoke(*, session: Session) -> None:
    sessions_revoke(sessions=Session.objects.filter(pk=session.pk))


def sessions_prune() -> int:
    """Delete sessions that expired or were revoked more than
    ``HOT_SESSION_RETENTION_DAYS`` ago (one is minted per page view by some apps)."""
    cutoff = timezone.now() - timedelta(days=settings.HOT_SESSION_RETENTION_DAYS)
    deleted, _ = Session.objects.filter(
        models.Q(expires_at__lt=cutoff) | models.Q(revoked_at__lt=cutoff)
    ).delete()
    return deleted


def service_key_create(
    *,
    api_key: ApiKey,
    permissions,
    name: str = "",
    description: str = "",
    metadata=None,
    expires_in: int | None = None,
) -> IssuedServiceKey:
    """Issue a long-lived key with at most ``api_key``'s permissions, limited to the
    customer-facing resource types (mcp, webhook, stream, event, run)."""
    granted = _granted(api_key, permissions, allowed_types=SERVICE_KEY_TYPES)
    expires_at = None
    if expires_in is not None:
        if expires_in <= 0:
            message = "expires_in must be a positive number of seconds (or null: never)"
            raise InvalidInput(message, details={"expires_in": [message]})
        expires_at = timezone.now() + timedelta(seconds=expires_in)
    service_key = ServiceKey(
        api_key=api_key,
        environment_id=api_key.environment_id,
        name=name,
        description=description,
        permissions=granted,
        metadata=_checked_metadata(metadata),
        expires_at=expires_at,
    )
    token = _seal(service_key, prefix="", secret_bytes=16)
    service_key.save(force_insert=True)
    return IssuedServiceKey(service_key=service_key, token=token)


_UNSET = object()


def service_key_update(
    *, service_key: ServiceKey, metadata=_UNSET, name=None, description=None
) -> ServiceKey:
    """Replace the metadata (and rename or redescribe); a revoked key is 409 ``revoked``."""
    if service_key.revoked_at is not None:
        raise Conflict("Cannot update a revoked service key", code="revoked")
    fields = []
    if metadata is not _UNSET:
        service_key.metadata = _checked_metadata(metadata)
        fields.append("metadata")
    if name is not None:
        service_key.name = name
        fields.append("name")
    if description is not None:
        service_key.description = description
        fields.append("description")
    if fields:
        service_key.save(update_fields=fields)
    return service_key


def service_keys_revoke(*, service_keys: models.QuerySet[ServiceKey]) -> list[uuid.UUID]:
    """Revoke every active key of ``service_keys`` at once; the ids revoked."""
    now = timezone.now()
    revoked = list(service_keys.filter(revoked_at__isnull=True).values_list("pk", flat=True))
    if revoked:
        ServiceKey.objects.filter(pk__in=revoked, revoked_at__isnull=True).update(revoked_at=now)
        credential_cache.credentials_changed()
    return revoked


def service_key_revoke(*, service_key: ServiceKey) -> None:
    service_keys_revoke(service_keys=ServiceKey.objects.filter(pk=service_key.pk))


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
