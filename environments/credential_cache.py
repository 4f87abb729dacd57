"""Verified credentials kept in the web process, so a request with a known token costs no
database query.

Correctness rests on one number in Redis, the credentials epoch (``CREDENTIALS_EPOCH_KEY``):
every change that can end or narrow a credential bumps it once its transaction commits —
revoking, deleting or editing an API key, session, service key or environment (model signals,
plus the bulk revocations, which bypass signals). A cached credential remembers the epoch read
*before* its row was loaded; a request uses it only if the epoch read for that request (in the
throttle's round trip) is still the same. So a revocation takes effect on the next request in
every process, and a row read before a concurrent change commits is never trusted after it.
Expiry needs no bump: an entry stops being used at its credential's ``expires_at``.

Without Redis (or while it cannot be reached) nothing is cached: every request reads the
database, as before. Entries also age out after ``HOT_CREDENTIAL_CACHE_SECONDS``, which keeps
``last_used_at`` within about that resolution.
"""

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction

from hotapi.access import Credential
from hotapi.redis_client import CREDENTIALS_EPOCH_KEY, redis_client

log = logging.getLogger(__name__)

MAX_ENTRIES = 10_000
REDIS_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class Entry:
    credential: Credential
    epoch: bytes
    valid_until: float  # wall-clock seconds: the credential's expiry or the cache's age limit


_entries: dict[bytes, Entry] = {}
_lock = threading.Lock()
_redis_state = {"retry_at": 0.0, "failing": False}


def enabled() -> bool:
    return bool(settings.REDIS_URL) and settings.HOT_CREDENTIAL_CACHE_SECONDS > 0


def _slot(token: str) -> bytes:
    # The token itself is not kept: only a hash of it names the entry.
    return hashlib.sha256(token.encode()).digest()


def lookup(token: str) -> Entry | None:
    """The cached entry for ``token`` if it has not expired (its epoch still to be checked)."""
    entry = _entries.get(_slot(token))
    if entry is None or entry.valid_until <= time.time():
        return None
    return entry


def read_epoch() -> bytes | None:
    """The current epoch, or None when Redis is absent or failing (then: do not cache). After a
    failure Redis is left alone for ``REDIS_RETRY_SECONDS``, and the outage logged once."""
    if not enabled() or time.monotonic() < _redis_state["retry_at"]:
        return None
    try:
        epoch = redis_client().get(CREDENTIALS_EPOCH_KEY) or b"0"
    except Exception as exc:
        _redis_state["retry_at"] = time.monotonic() + REDIS_RETRY_SECONDS
        if not _redis_state["failing"]:
            _redis_state["failing"] = True
            log.warning("Credential cache: cannot reach Redis (%s); reading the database", exc)
        return None
    _redis_state["failing"] = False
    return epoch


def store(token: str, credential: Credential, epoch: bytes, expires_at: datetime | None):
    valid_until = time.time() + settings.HOT_CREDENTIAL_CACHE_SECONDS
    if expires_at is not None:
        valid_until = min(valid_until, expires_at.timestamp())
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[_slot(token)] = Entry(credential, epoch, valid_until)


def _bump() -> None:
    try:
        redis_client().incr(CREDENTIALS_EPOCH_KEY)
    except Exception:
        # A cached credential could outlive its revocation by up to the cache's age limit.
        log.exception("Credential cache: could not bump the epoch after a credential change")


def credentials_changed() -> None:
    """Call after any change that can end or narrow a credential: every process's cached
    credentials are re-read from the database on their next use, once the change commits."""
    if settings.REDIS_URL:
        _bump()  # now: this transaction's own later reads see the change already
        transaction.on_commit(_bump)  # and after commit: a read racing the commit is dropped


def changed_on_save(sender, instance, created, **kwargs) -> None:
    if not created:  # a new credential ends none
        credentials_changed()


def changed_on_delete(sender, instance, **kwargs) -> None:
    credentials_changed()
