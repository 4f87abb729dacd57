"""One stream-log tailer per web process, fanning entries out to SSE subscribers.

A background thread reads new ``StreamEntry`` rows in id order and hands each to the
subscriptions of its stream or environment. It wakes on Redis pub/sub when ``REDIS_URL`` is set
(and polls slowly as a safety net); otherwise it polls the table every
``HOT_STREAM_POLL_SECONDS``. Either way there is one query loop per process, not one per
connection.

Ids are assigned when rows are inserted, but on PostgreSQL transactions may commit out of id
order. The tailer therefore delivers strictly in id order and never passes a missing id while
the transaction that took it may still commit. When it meets a gap it records a commit
horizon: the sequence's last value, then the transactions holding a write lock on the log.
Every id up to that value was taken by one of them or by a transaction already over, so once
none of them holds the lock any more a gap below the value is a rolled-back insert and is
passed. Waiting is bounded only by those transactions, however slow they are to commit. On
SQLite writers are serialized, so a visible id proves every lower id committed or rolled back.
Subscribers can therefore resume from the last id they saw (``Last-Event-ID``) without losing
or reordering anything.
"""

import asyncio
import logging
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.db import connection
from django.db.models import Max

from hotapi import sql
from hotapi.redis_client import redis_client

from .models import StreamEntry

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "hot:stream-log"  # appends publish here (events/streamlog.py) to wake hubs
BATCH = 1000
SUBSCRIBER_BUFFER = 5000
REDIS_SAFETY_POLL = 1.0
REDIS_RETRY_SECONDS = 5.0
START_SCAN = 1000  # ids below the newest one checked for gaps when a hub starts


# Transactions writing to the stream log hold this lock from before their insert takes an id
# (the parser takes it) until after their commit is visible to new snapshots.
_WRITERS = (
    "SELECT {} FROM pg_locks WHERE locktype = 'relation' AND mode = 'RowExclusiveLock'"
    " AND granted AND relation = %s::regclass"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


class CommitHorizon:
    """Up to which stream-log id every insert has committed or rolled back (PostgreSQL).

    When a gap is met (after the rows were read) the horizon records the sequence's last value,
    then the transactions holding a write lock on the log at that moment: every id up to the
    value was taken by one of them or by a transaction already over. It is settled once none
    of them still holds the lock (released only after its commit became visible), which is
    checked before the next read, so a commit in between is seen by that read rather than
    mistaken for a rollback. On SQLite every gap is final at once (serialized writers: a
    visible id proves every lower id's transaction had ended before it was written)."""

    def __init__(self):
        self.settled_upto = 0  # every id up to here is final
        self._pending: tuple[int, list[str]] | None = None  # (sequence value, writers)

    def refresh(self) -> None:
        """Settle the pending horizon if all of its writers are done (call before reading the
        rows the result is applied to)."""
        if self._pending is None:
            return
        upto, writers = self._pending
        if writers:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT NOT EXISTS ("
                    + _WRITERS.format("1")
                    + " AND virtualtransaction = ANY(%s))",
                    [StreamEntry._meta.db_table, writers],
                )
                if not cursor.fetchone()[0]:
                    return
        self.settled_upto = max(self.settled_upto, upto)
        self._pending = None

    def is_final(self, gap_top: int) -> bool:
        """Whether the gap ending at ``gap_top`` is final; if not, make sure a horizon that
        covers it will be checked."""
        if connection.vendor != "postgresql" or gap_top <= self.settled_upto:
            return True
        if self._pending is None:
            table = StreamEntry._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'id'))", [table]
                )
                upto = cursor.fetchone()[0] or 0
                # A separate statement, so the writers are read after the value.
                cursor.execute(_WRITERS.format("virtualtransaction"), [table])
                self._pending = (upto, [row[0] for row in cursor.fetchall()])
        return False


@dataclass(eq=False)
class Entry:
    id: int
    environment_id: str
    stream_id: str
    kind: str
    run_id: str | None
    payload: dict
    # SSE frames rendered from this entry, per endpoint format: rendered once, sent to every
    # subscriber (only touched on the event loop that serves the connections).
    rendered: dict = field(default_factory=dict)

    def frame(self, key, render):
        if key not in self.rendered:
            self.rendered[key] = render()
        return self.rendered[key]


def entry_from_row(row) -> Entry:
    entry_id, environment_id, stream_id, kind, run_id, payload = row
    return Entry(
        entry_id,
        str(environment_id),
        str(stream_id),
        kind,
        str(run_id) if run_id else None,
        payload,
    )


ENTRY_FIELDS = ("id", "environment_id", "stream_id", "kind", "run_id", "payload")


@cache
def _entries_after_sql(vendor: str) -> str:
    """The hub's poll: the next entries after an id, in id order. Its text is built once
    (``hotapi.sql``): through the ORM, building the query cost three times what running it
    did, and the hub polls at least twice per wake-up."""
    entry_id = sql.column(StreamEntry, "id")
    return (
        f"SELECT {sql.columns(StreamEntry, ENTRY_FIELDS)} FROM {sql.table(StreamEntry)}"
        f" WHERE {entry_id} > %s ORDER BY {entry_id} LIMIT {BATCH}"
    )


class Subscription:
    """Entries for one SSE connection. Filled by the hub thread, drained by the connection's
    event loop; created in a sync view before the stream starts, so nothing is missed between
    the view's history read and the live tail."""

    def __init__(self, hub: "StreamHub", *, stream_id=None, environment_id=None):
        self.hub = hub
        self.stream_id = str(stream_id) if stream_id else None
        self.environment_id = str(environment_id) if environment_id else None
        self.cursor = 0  # entries after this id arrive live
        self.overflowed = False
        self._buffer: deque[Entry] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self.closed = False

    def push(self, entries: list[Entry]):
        """Buffer entries; return the event to set on the connection's loop (or None)."""
        with self._lock:
            self._buffer.extend(entries)
            if len(self._buffer) > SUBSCRIBER_BUFFER:
                # A client this slow is cut off; it resumes with Last-Event-ID.
                self.overflowed = True
                self._buffer.clear()
            return self._loop, self._wakeup

    async def next_batch(self, timeout: float) -> list[Entry]:
        """Entries that arrived, or [] after ``timeout`` seconds."""
        if self._loop is None:
            with self._lock:
                self._loop = asyncio.get_running_loop()
                self._wakeup = asyncio.Event()
                if self._buffer:
                    self._wakeup.set()
        try:
            async with asyncio.timeout(timeout):
                await self._wakeup.wait()
        except TimeoutError:
            return []
        with self._lock:
            self._wakeup.clear()
            batch = list(self._buffer)
            self._buffer.clear()
        return batch

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.hub.unsubscribe(self)


class StreamHub:
    def __init__(self):
        self._lock = threading.Lock()
        self._by_stream: dict[str, set[Subscription]] = defaultdict(set)
        self._by_environment: dict[str, set[Subscription]] = defaultdict(set)
        self._cursor: int | None = None
        self._horizon = CommitHorizon()
        self._waiting_for_gap = False
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- subscriptions ----------------------------------------------------------------------
    def subscribe(self, *, stream_id=None, environment_id=None) -> Subscription:
        self._ensure_started()
        subscription = Subscription(self, stream_id=stream_id, environment_id=environment_id)
        with self._lock:
            subscription.cursor = self._cursor
            if subscription.stream_id:
                self._by_stream[subscription.stream_id].add(subscription)
            else:
                self._by_environment[subscription.environment_id].add(subscription)
        self._wake.set()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            for index, key in (
                (self._by_stream, subscription.stream_id),
                (self._by_environment, subscription.environment_id),
            ):
                if key and key in index:
                    index[key].discard(subscription)
                    if not index[key]:
                        del index[key]

    def wake(self) -> None:
        self._wake.set()

    # -- tailing ----------------------------------------------------------------------------
    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._cursor = _start_cursor()
            connection.close()  # the caller's thread must not keep a connection for this
            self._thread = threading.Thread(target=self._run, name="hot-stream-hub", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        waiter = RedisWaiter() if settings.REDIS_URL else None
        interval = settings.HOT_STREAM_POLL_SECONDS
        while True:
            try:
                delivered = self.poll_once()  # keeps its connection between polls
            except Exception:
                log.exception("Stream hub poll failed; retrying")
                connection.close()
                delivered = 0
                time.sleep(1)
            if delivered:
                continue  # there may be more
            if waiter is not None and waiter.wait(
                REDIS_SAFETY_POLL if not self._waiting_for_gap else interval
            ):
                continue
            self._wake.wait(interval)
            self._wake.clear()

    def poll_once(self) -> int:
        """Deliver committed entries after the cursor, in id order. Returns how many."""
        self._horizon.refresh()
        rows = sql.value_rows(
            StreamEntry, ENTRY_FIELDS, _entries_after_sql(connection.vendor), [self._cursor]
        )
        ready: list[Entry] = []
        expected = self._cursor + 1
        self._waiting_for_gap = False
        for row in rows:
            if row[0] != expected:
                if not self._horizon.is_final(row[0] - 1):
                    self._waiting_for_gap = True  # an earlier insert may still commit
                    break
                log.info(
                    "Stream log ids %d..%d were rolled back; passed over", expected, row[0] - 1
                )
            ready.append(entry_from_row(row))
            expected = row[0] + 1
        if not ready:
            return 0
        self._dispatch(ready)
        return len(ready)

    def _dispatch(self, entries: list[Entry]) -> None:
        with self._lock:
            by_target: dict[Subscription, list[Entry]] = defaultdict(list)
            for entry in entries:
                for subscription in self._by_stream.get(entry.stream_id, ()):
                    by_target[subscription].append(entry)
                for subscription in self._by_environment.get(entry.environment_id, ()):
                    by_target[subscription].append(entry)
            self._cursor = entries[-1].id
        # One thread-safe call per event loop wakes all of its subscribers at once.
        wakeups: dict[asyncio.AbstractEventLoop, list[asyncio.Event]] = defaultdict(list)
        for subscription, batch in by_target.items():
            loop, wakeup = subscription.push(batch)
            if loop is not None:
                wakeups[loop].append(wakeup)
        for loop, events in wakeups.items():
            try:
                loop.call_soon_threadsafe(_set_all, events)
            except RuntimeError:  # the loop is closed: its connections are gone
                pass


class RedisWaiter:
    """Waits for a wake-up on Redis pub/sub; while Redis is down it reports failure at once,
    so the hub polls the database instead, and it resubscribes every few seconds."""

    def __init__(self):
        self._pubsub = None
        self._retry_at = 0.0
        self._failing = False

    def wait(self, timeout: float) -> bool:
        """True after a wake-up or ``timeout``; False when Redis cannot be used now."""
        if time.monotonic() < self._retry_at:
            return False
        try:
            if self._pubsub is None:
                self._pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(NOTIFY_CHANNEL)
            message = self._pubsub.get_message(timeout=timeout)
            while message is not None:  # coalesce a burst of wake-ups into one poll
                message = self._pubsub.get_message(timeout=0)
        except Exception as exc:
            if not self._failing:
                log.warning("Redis pub/sub unavailable (%s); the stream hub polls", exc)
            self._failing = True
            self._retry_at = time.monotonic() + REDIS_RETRY_SECONDS
            self._close()
            return False
        if self._failing:
            log.warning("Redis pub/sub is back; the stream hub waits for wake-ups again")
            self._failing = False
        return True

    def _close(self) -> None:
        try:
            if self._pubsub is not None:
                self._pubsub.close()
        except Exception:  # the connection is already broken
            log.debug("closing a broken pub/sub connection", exc_info=True)
        self._pubsub = None


def _start_cursor() -> int:
    """Where a starting hub begins: just before the first missing id among the newest ones
    (which may still commit), else the newest id."""
    newest = StreamEntry.objects.aggregate(last=Max("id"))["last"] or 0
    ids = list(
        StreamEntry.objects.filter(id__gt=newest - START_SCAN)
        .order_by("id")
        .values_list("id", flat=True)
    )
    expected = ids[0] if ids else newest
    for entry_id in ids:
        if entry_id != expected:
            return expected - 1
        expected = entry_id + 1
    return newest


def _set_all(events: list[asyncio.Event]) -> None:
    for event in events:
        event.set()


_hub: StreamHub | None = None
_hub_lock = threading.Lock()


def get_hub() -> StreamHub:
    global _hub
    with _hub_lock:
        if _hub is None:
            _hub = StreamHub()
        return _hub


def wake_local_hub() -> None:
    """Appends made in a web process wake its own hub without waiting for the next poll."""
    if _hub is not None:
        _hub.wake()
