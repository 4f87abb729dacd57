"""The process's Redis client (rate-limit counters, stream wake-ups), when REDIS_URL is set.

One client per process: its connection pool is thread-safe and shared by request threads, the
stream hub and the workers' hooks, instead of a connection per caller.

Redis is never a reason for a request to fail or hang: connecting and each call give up after
``HOT_REDIS_SOCKET_TIMEOUT`` seconds with no retry, and every caller has a fallback (the rate
limiter counts in the process, the stream hub polls the database). Redis 7's maintenance
notifications handshake is switched off: it is for managed clusters, and it broke connections
opened concurrently (an ``AttributeError`` in the handshake under load).
"""

import threading
from functools import cache

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.maint_notifications import MaintNotificationsConfig
from redis.retry import Retry

# Bumped whenever a credential is revoked, deleted or changed; read on every request that a
# cached credential answers (see ``environments.credential_cache``).
CREDENTIALS_EPOCH_KEY = "hot:credentials:epoch"

_lock = threading.Lock()


def redis_client() -> redis.Redis:
    """The one client. Built under a lock: concurrent first calls each built a client, and the
    losers were garbage-collected (closing their sockets) while their calls ran."""
    with _lock:
        return _build_client()


@cache
def _build_client() -> redis.Redis:
    timeout = settings.HOT_REDIS_SOCKET_TIMEOUT
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        maint_notifications_config=MaintNotificationsConfig(enabled=False),
    )


redis_client.cache_clear = _build_client.cache_clear  # for tests that change REDIS_URL
