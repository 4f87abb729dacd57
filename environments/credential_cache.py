"""Verified credentials kept in the web process, so a request with a known token costs no
database query and no Redis round trip.

Correctness rests on invalidation over Redis pub/sub, confirmed by a lease:

- **Every change that can end or narrow a credential** — revoking, deleting or editing an API
  key, session, service key or environment (model signals, plus the bulk revocations, which
  bypass signals) — empties this process's cache at once and, once its transaction commits,
  is published on the Redis database's channel (``_channel``). The publisher then waits until
  every subscribed process has acknowledged (each empties its cache first), or at most
  ``LEASE_SECONDS`` plus a margin.
- **Each caching process keeps one subscriber connection** in a daemon thread
  (``_Listener``), which pings Redis on it every ``PING_SECONDS``. Redis answers a
  subscriber's commands and messages in order, so a pong proves that every change published
  before its ping was sent has been applied here. The cache is used only while that proof is
  younger than ``LEASE_SECONDS``: a process that stalled, lost its connection or cannot reach
  Redis reads the database until its listener confirms again. A connection that answers no
  ping for twice the lease is replaced.

So when a revocation returns, no process answers from a credential it cached before: either
it acknowledged, or its last proof is older than the lease by the time the publisher stopped
waiting. A row read from the database while a change commits is never trusted after it: an
entry remembers the listener's generation read *before* its row was loaded, and every change
and every (re)subscription starts a new generation. Expiry needs no message: an entry stops
being used at its credential's ``expires_at``.

Without Redis nothing is cached: every request reads the database. Entries also age out after
``HOT_CREDENTIAL_CACHE_SECONDS``, which keeps ``last_used_at`` within about that resolution.
"""

import hashlib
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

import redis
from django.conf import settings
from django.db import transaction

from hotapi.access import Credential
from hotapi.redis_client import redis_client

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "hot:credentials:changed:"  # + the Redis database: channels span them all
ACK_KEY_PREFIX = "hot:credentials:ack:"
MAX_ENTRIES = 10_000
PING_SECONDS = 0.5
LEASE_SECONDS = 2.0
# The publisher waits this long at most: past it, a process that has not acknowledged holds no
# proof younger than the lease (the margin covers the clocks' rates and the last call's time).
PUBLISH_WAIT_SECONDS = LEASE_SECONDS + 0.5
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Entry:
    credential: Credential
    generation: int
    valid_until: float  # wall-clock seconds: the credential's expiry or the cache's age limit


class _State:
    """What the listener has proved. Read without a lock on every request: each field is one
    attribute, written by the listener thread (or by a change made in this process)."""

    def __init__(self):
        self.entries: dict[bytes, Entry] = {}
        self.generation = 0
        self.confirmed_at = float("-inf")  # monotonic: every change published before is applied
        self.listener: _Listener | None = None


_state = _State()
_lock = threading.Lock()


def enabled() -> bool:
    return bool(settings.REDIS_URL) and settings.HOT_CREDENTIAL_CACHE_SECONDS > 0


def _slot(token: str) -> bytes:
    # The token itself is not kept: only a hash of it names the entry.
    return hashlib.sha256(token.encode()).digest()


def lookup(token: str) -> Entry | None:
    """The cached entry for ``token``, if it is still valid and the listener's proof is fresh."""
    state = _state
    if state.listener is None:
        _start_listener()
    entry = state.entries.get(_slot(token))
    if entry is None or entry.generation != state.generation:
        return None
    if time.monotonic() - state.confirmed_at >= LEASE_SECONDS:
        return None
    if entry.valid_until <= time.time():
        return None
    return entry


def generation() -> int:
    """Read before loading a credential from the database; ``store`` keeps it only if no
    change arrived in between."""
    if _state.listener is None:
        _start_listener()
    return _state.generation


def store(token: str, credential: Credential, read_in: int, expires_at: datetime | None):
    valid_until = time.time() + settings.HOT_CREDENTIAL_CACHE_SECONDS
    if expires_at is not None:
        valid_until = min(valid_until, expires_at.timestamp())
    with _lock:
        if read_in != _state.generation:
            return  # a change arrived while the row was read: it may predate the change
        if len(_state.entries) >= MAX_ENTRIES:
            _state.entries = {}
        _state.entries[_slot(token)] = Entry(credential, read_in, valid_until)


def _forget_all() -> None:
    with _lock:
        _state.generation += 1
        _state.entries = {}


def _lapse() -> None:
    """No proof any more (a lost connection, a fork): nothing is answered from memory until
    the listener confirms again, and nothing cached before is kept."""
    _state.confirmed_at = float("-inf")
    _forget_all()


# --- publishing a change ----------------------------------------------------------------


def credentials_changed() -> None:
    """Call after any change that can end or narrow a credential: this process forgets its
    cached credentials now (its own later reads see the change), and every process does once
    the change commits, before the committing request returns."""
    _forget_all()
    if settings.REDIS_URL and not _publish_registered():
        transaction.on_commit(_publish)


def _publish_registered() -> bool:
    """True if this transaction will publish already: a change of many rows (a queryset
    delete sends a signal per row) publishes once. A rolled-back savepoint drops its
    callbacks, so a later change registers again."""
    pending = getattr(transaction.get_connection(), "run_on_commit", ())
    return any(callback[1] is _publish for callback in pending)


def _channel(client) -> str:
    # Pub/sub channels are shared by every database of a server; the acknowledgements are not.
    return CHANNEL_PREFIX + str(client.connection_pool.connection_kwargs.get("db", 0))


def _publish() -> None:
    ack_key = ACK_KEY_PREFIX + uuid.uuid4().hex
    client = redis_client()
    try:
        receivers = client.publish(_channel(client), ack_key)
        acknowledged = _wait_for_acks(client, ack_key, receivers)
    except Exception:
        # Without the message, a cached credential could outlive its revocation by up to the
        # cache's age limit in a process whose listener stays connected.
        log.exception("Credential cache: could not publish a credential change")
        return
    if acknowledged < receivers:
        log.warning(
            "Credential cache: %d of %d processes did not acknowledge a credential change "
            "within %.1f s; their leases have run out",
            receivers - acknowledged,
            receivers,
            PUBLISH_WAIT_SECONDS,
        )


def _wait_for_acks(client, ack_key: str, receivers: int) -> int:
    deadline = time.monotonic() + PUBLISH_WAIT_SECONDS
    acknowledged = 0
    try:
        while acknowledged < receivers:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            # Short blocking reads: the client's socket timeout bounds each call.
            wait = min(left, settings.HOT_REDIS_SOCKET_TIMEOUT * 0.6)
            if client.blpop([ack_key], timeout=max(wait, 0.01)) is not None:
                acknowledged += 1
    finally:
        client.delete(ack_key)
    return acknowledged


def changed_on_save(sender, instance, created, **kwargs) -> None:
    if not created:  # a new credential ends none
        credentials_changed()


def changed_on_delete(sender, instance, **kwargs) -> None:
    credentials_changed()


# --- the listener -------------------------------------------------------------------------


def _start_listener() -> None:
    if not enabled():
        return
    with _lock:
        if _state.listener is None:
            _state.listener = _Listener()
            _state.listener.start()


def _after_fork_in_child() -> None:
    # The listener thread does not survive a fork: the child starts its own on first use.
    global _lock
    _lock = threading.Lock()
    _state.listener = None
    _lapse()


os.register_at_fork(after_in_child=_after_fork_in_child)


class _Listener(threading.Thread):
    def __init__(self):
        super().__init__(name="hot-credential-listener", daemon=True)
        self._failing = False

    def run(self) -> None:
        while enabled():
            try:
                self._listen()
            except Exception as exc:
                if not self._failing:
                    self._failing = True
                    log.warning("Credential cache: lost Redis (%s); reading the database", exc)
            _lapse()
            time.sleep(RETRY_SECONDS)
        _state.listener = None  # Redis was configured away (tests): start again if it returns

    def _listen(self) -> None:
        client = redis_client()
        pubsub = client.pubsub()
        pings: dict[bytes, float] = {}
        try:
            pubsub.subscribe(_channel(client))
            next_ping = float("inf")  # pings start once the subscription is confirmed
            while True:
                now = time.monotonic()
                if pings and now - next(iter(pings.values())) > 2 * LEASE_SECONDS:
                    # A connection that neither fails nor answers: start a new one.
                    raise redis.ConnectionError("no answer to the listener's pings")
                if now >= next_ping:
                    token = str(now).encode()
                    pings[token] = now
                    pubsub.ping(token.decode())
                    next_ping = now + PING_SECONDS
                message = pubsub.get_message(timeout=min(PING_SECONDS, max(0, next_ping - now)))
                if message is None:
                    continue
                kind = message["type"]
                if kind == "subscribe":
                    # Nothing cached before now is trusted, and every change committed before
                    # now is in the database the next reads see.
                    _forget_all()
                    _state.confirmed_at = time.monotonic()
                    next_ping = _state.confirmed_at + PING_SECONDS
                    if self._failing:
                        self._failing = False
                        log.warning("Credential cache: Redis is back")
                elif kind == "message":
                    _forget_all()
                    acknowledge = client.pipeline(transaction=False)
                    acknowledge.rpush(message["data"], 1)
                    acknowledge.expire(message["data"], int(PUBLISH_WAIT_SECONDS) + 5)
                    acknowledge.execute()
                elif kind == "pong" and (sent := pings.pop(message["data"], None)) is not None:
                    _state.confirmed_at = sent
                    pings = {t: s for t, s in pings.items() if s > sent}
        finally:
            pubsub.close()
