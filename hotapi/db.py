"""Database transactions that survive the failures PostgreSQL reports as retryable.

A deadlock victim (SQLSTATE 40P01) or a serialization failure (40001) has been rolled back
whole: running the transaction again is correct and is what PostgreSQL asks for. A lost
connection (the server restarted, the pool handed out a dead connection) is different: the
transaction may or may not have committed. Only callers whose transaction is idempotent may
retry through it (``reconnect=True``), and they wait for the server to come back.
"""

import logging
import random
import select
import time
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections
from django.db import connection as default_connection

log = logging.getLogger(__name__)

RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
T = TypeVar("T")


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a database error raised through Django (psycopg), if any."""
    cause = getattr(error, "__cause__", None)
    return getattr(cause, "sqlstate", None) or getattr(error, "sqlstate", None)


def is_conflict(error: BaseException) -> bool:
    """A deadlock or serialization failure: the transaction was rolled back, run it again."""
    return isinstance(error, DatabaseError) and sqlstate(error) in RETRYABLE_SQLSTATES


def is_connection_loss(error: BaseException) -> bool:
    """The database could not be reached (or the connection died) rather than refusing."""
    if isinstance(error, InterfaceError):
        return True
    return isinstance(error, OperationalError) and not is_conflict(error)


def _forget_connection() -> None:
    """Drop a connection that failed, so the next attempt opens (or borrows) a fresh one."""
    try:
        default_connection.close()
    except Exception:  # closing a dead connection may itself fail
        log.debug("closing a failed connection", exc_info=True)
    close_old_connections()


def run_with_retries(
    work: Callable[[], T],
    *,
    what: str,
    attempts: int = 8,
    reconnect_for: float = 0.0,
) -> T:
    """Call ``work`` (which opens its own transaction), again after a deadlock or
    serialization failure, up to ``attempts`` times with a short jittered backoff.

    With ``reconnect_for`` > 0 a lost connection is retried too, for that many seconds: only
    for work that is safe to repeat after an unknown outcome (it checks state under a lock)."""
    if default_connection.in_atomic_block:
        return work()  # inside a caller's transaction: only the outermost one can retry
    conflicts = 0
    give_up_at = time.monotonic() + reconnect_for
    delay = 0.05
    while True:
        try:
            return work()
        except DatabaseError as error:
            if is_conflict(error) and conflicts + 1 < attempts:
                conflicts += 1
                log.info("%s: %s, retrying (%d)", what, sqlstate(error), conflicts)
                time.sleep(random.uniform(0.005, 0.02 * 2**conflicts))
                continue
            if is_connection_loss(error) and time.monotonic() < give_up_at:
                log.warning("%s: database unavailable (%s); retrying", what, error)
                _forget_connection()
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            raise


def retrying(*, what: str | None = None, attempts: int = 8, reconnect_for: float = 0.0):
    """Decorator form of :func:`run_with_retries` for a function that is one transaction."""

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        label = what or fn.__qualname__

        @wraps(fn)
        def wrapper(*args, **kwargs) -> T:
            return run_with_retries(
                lambda: fn(*args, **kwargs),
                what=label,
                attempts=attempts,
                reconnect_for=reconnect_for,
            )

        return wrapper

    return decorate


_last_checked: dict[str, float] = {}


def server_hung_up(conn) -> bool:
    """Whether the server has closed this idle connection, without a round trip: between
    requests or tasks a connection in autocommit has nothing to read unless the server wrote
    to it, and it writes to an idle client only when it ends the session (a restart or
    shutdown sends "terminating connection", then closes the socket). False for connections
    without a socket (SQLite)."""
    pgconn = getattr(conn.connection, "pgconn", None)
    if pgconn is None:
        return False
    try:
        poller = select.poll()  # not select(): it fails on descriptors above 1023
        poller.register(pgconn.socket, select.POLLIN)
        return bool(poller.poll(0))
    except Exception:  # the connection is already closed or broken
        return True


def keep_usable_connections() -> None:
    """Between two tasks of a worker: keep each open connection for the next task unless it is
    broken. One the server has hung up on (``server_hung_up``) is closed at once; one that saw
    an error, or sat unused longer than ``HOT_DB_IDLE_CHECK_SECONDS`` (the server may have
    restarted meanwhile without a word, as when the machine is lost), is checked with one round
    trip and closed if unusable; one left outside autocommit or inside a transaction by a task
    that failed is closed too. Busy connections cost a system call here."""
    from django.conf import settings
    from django.db import connections

    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        idle_for = now - _last_checked.get(conn.alias, now)
        _last_checked[conn.alias] = now
        if conn.in_atomic_block or conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"]:
            conn.close()
        elif server_hung_up(conn):
            conn.connection.close()  # so a pool discards it rather than lending it again
            conn.close()
        elif conn.errors_occurred or idle_for > settings.HOT_DB_IDLE_CHECK_SECONDS:
            if conn.is_usable():
                conn.errors_occurred = False
            else:
                conn.close()


def keep_connections_across_requests() -> None:
    """In a process that serves one request at a time (a gunicorn sync worker): keep the
    database connection from one request to the next, as a Celery worker keeps it between
    tasks, instead of Django's closing it after each request, which with the pool meant giving
    it back and taking it again (6% of the instructions of a small authenticated GET). Call
    ``keep_usable_connections`` before each request instead, so a broken connection is still
    dropped."""
    from django.core import signals
    from django.db import close_old_connections as closing

    signals.request_started.disconnect(closing)
    signals.request_finished.disconnect(closing)
