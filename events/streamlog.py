"""Appending to the durable stream log, and waking the web processes that tail it."""

import logging
import os
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet, sql
from django.utils import timezone

from hotapi import sql as hot_sql
from hotapi.redis_client import redis_client

from .hub import NOTIFY_CHANNEL, wake_local_hub
from .models import StreamEntry

log = logging.getLogger(__name__)

# After Redis failed, wake-ups are not attempted for this long (each would wait for a timeout).
REDIS_RETRY_SECONDS = 5.0


class _Waker:
    """Publishes the wake-ups to other processes on a thread of its own, so that the one who
    appended (a request, a run's commit) does not wait for Redis; wake-ups asked for while one
    is being sent go out as one."""

    def __init__(self) -> None:
        self._asked = threading.Event()
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None
        self.retry_at = 0.0

    def wake(self) -> None:
        self._asked.set()
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="hot-stream-waker", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            self._asked.wait()
            self._asked.clear()
            if time.monotonic() >= self.retry_at:
                self._publish()

    def _publish(self) -> None:
        try:
            redis_client().publish(NOTIFY_CHANNEL, b"1")
        except Exception as exc:  # a missed wake-up only delays delivery until the next poll
            self.retry_at = time.monotonic() + REDIS_RETRY_SECONDS
            log.warning("Could not publish a stream wake-up (%s); hubs poll meanwhile", exc)


_waker = _Waker()


def _new_waker() -> None:
    """In a forked child (a worker process): the parent's thread is not there."""
    global _waker
    _waker = _Waker()


os.register_at_fork(after_in_child=_new_waker)


def notify_appended() -> None:
    """Wake the stream hubs now rather than at their next poll: this process's directly,
    other processes' through Redis when it is configured (from the waker's thread)."""
    wake_local_hub()
    if settings.REDIS_URL:
        _waker.wake()


def prune(*, older_than_days: float, batch: int = 10_000) -> int:
    """Delete log entries past the retention period (oldest first, in batches)."""

    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted = 0
    while True:
        ids = list(
            StreamEntry.objects.filter(created_at__lt=cutoff)
            .order_by("id")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            return deleted
        deleted += StreamEntry.objects.filter(id__in=ids).delete()[0]


def append_many(entries: list[StreamEntry]) -> None:
    """Add several entries in one statement."""
    StreamEntry.objects.bulk_create(entries)
    transaction.on_commit(notify_appended)


_ENTRY_COLUMNS = ("environment", "stream", "kind", "run_id", "payload", "created_at")


def append_statement(entries: list[StreamEntry]) -> tuple[str, list]:
    """The statement that adds ``entries``, for the caller to run with its other writes
    (``hotapi.sql``); once they are committed the caller wakes the hubs
    (``transaction.on_commit(notify_appended)``)."""
    return hot_sql.insert_statement(entries, _ENTRY_COLUMNS)


def entry(*, environment_id, stream_id, kind: str, payload: dict, run_id=None) -> StreamEntry:
    """An entry not saved yet, to add with others in one statement (``append_many``)."""
    return StreamEntry(
        environment_id=environment_id,
        stream_id=stream_id,
        kind=kind,
        payload=payload,
        run_id=run_id,
    )


def insert_for_each(entry: StreamEntry, source: str) -> tuple[str, list]:
    """The statement that adds ``entry`` once for each row of ``source`` (a CTE name in the
    caller's statement: the entry is written only if that CTE returned a row), and its
    parameters. The caller runs it in its own statement, then calls ``notify_appended`` once
    the entry is committed (``transaction.on_commit``)."""
    placeholders = ", ".join(["%s"] * len(_ENTRY_COLUMNS))
    columns = hot_sql.columns(StreamEntry, _ENTRY_COLUMNS)
    statement = (
        f"INSERT INTO {hot_sql.table(StreamEntry)} ({columns}) SELECT {placeholders} FROM {source}"
    )
    return statement, hot_sql.saved_values(entry, _ENTRY_COLUMNS)


def append_with_update(entry: StreamEntry, rows: QuerySet, values: dict) -> bool:
    """``rows.update(**values)`` and, if that changed a row, add ``entry``: one statement on
    PostgreSQL (the update in a CTE the insert selects from), two elsewhere. Returns whether a
    row changed."""
    if connection.vendor != "postgresql":
        if not rows.update(**values):
            return False
        append_many([entry])
        return True
    update = rows.query.chain(sql.UpdateQuery)
    update.add_update_values(values)
    update_sql, update_params = update.get_compiler(rows.db).as_sql()
    insert_sql, insert_params = insert_for_each(entry, "changed")
    statement = f"WITH changed AS ({update_sql} RETURNING 1) {insert_sql}"
    with connection.cursor() as cursor:
        cursor.execute(statement, [*update_params, *insert_params])
        if not cursor.rowcount:
            return False
    transaction.on_commit(notify_appended)
    return True


def append(*, environment_id, stream_id, kind: str, payload: dict, run_id=None) -> StreamEntry:
    entry = StreamEntry.objects.create(
        environment_id=environment_id,
        stream_id=stream_id,
        kind=kind,
        payload=payload,
        run_id=run_id,
    )
    transaction.on_commit(notify_appended)
    return entry
