"""The process's Redis client (rate-limit counters, stream wake-ups), when REDIS_URL is set.

One client per process: its connection pool is thread-safe and shared by request threads, the
stream hub and the workers' hooks, instead of a connection per caller. The one exception is
the throttle's script, called on every request: ``HotPathScript`` keeps a connection per thread,
configured as the pool's, to spare the pool's per-call work.

Redis is never a reason for a request to fail or hang: connecting and each call give up after
``HOT_REDIS_SOCKET_TIMEOUT`` seconds with no retry, and every caller has a fallback (the rate
limiter counts in the process, the stream hub polls the database). Redis 7's maintenance
notifications handshake is switched off: it is for managed clusters, and it broke connections
opened concurrently (an ``AttributeError`` in the handshake under load).
"""

import hashlib
import os
import threading
from collections.abc import Sequence
from functools import cache

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, ResponseError
from redis.maint_notifications import MaintNotificationsConfig
from redis.retry import Retry

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


class HotPathScript:
    """A Lua script called on every request (the throttle's count), with as little client work
    around its one round trip as redis-py allows.

    Through ``Redis.evalsha`` a call spends about as much CPU in the client as the round trip
    takes: the pool's lock and its check of the connection, the retry wrapper, and redis-py's
    event dispatch and metrics recording, none of which this call needs (66 µs against 35 µs of
    client work per call on the benchmark machine; decisions D78). Here the calling thread
    keeps one connection, configured as the client's pool configures its own, sends the packed
    ``EVALSHA`` on it and reads the one reply.

    The connection is checked before each call as the pool checks a connection it hands out
    (a poll: a connection with data waiting, or one the server closed, is replaced), and any
    failure other than a whole error reply drops it, so a reply is never read by the wrong
    call. A script the server does not know (the first call, or after a restart or ``SCRIPT
    FLUSH``) is loaded through the client and the call made again. Failures are redis-py's own
    exceptions (``ConnectionError``, ``TimeoutError``, ``ResponseError``), as from the client,
    and the connect and socket timeouts are the client's.
    """

    def __init__(self, source: str):
        self._source = source
        self._sha = hashlib.sha1(source.encode()).hexdigest()
        self._threads = threading.local()

    def __call__(self, keys: Sequence, args: Sequence):
        try:
            return self._evalsha(keys, args)
        except NoScriptError:
            redis_client().script_load(self._source)
            return self._evalsha(keys, args)

    def _evalsha(self, keys: Sequence, args: Sequence):
        connection = self._connection()
        if connection.is_connected and _out_of_step(connection):
            connection.disconnect()  # send_command connects afresh
        try:
            connection.send_command("EVALSHA", self._sha, len(keys), *keys, *args)
            return connection.read_response()
        except ResponseError:
            raise  # a whole error reply was read: the connection is in step
        except BaseException:
            connection.disconnect()
            raise

    def _connection(self) -> "redis.connection.AbstractConnection":
        """This thread's connection, new after a fork or when the process's client changed."""
        client = redis_client()
        mine = self._threads
        if getattr(mine, "client", None) is not client or mine.pid != os.getpid():
            pool = client.connection_pool
            mine.connection = pool.connection_class(**pool.connection_kwargs)
            mine.client, mine.pid = client, os.getpid()
        return mine.connection


def _out_of_step(connection) -> bool:
    """True if the kept connection has data waiting or the server hung up (one poll)."""
    try:
        return connection.can_read()
    except (redis.ConnectionError, OSError):
        return True
