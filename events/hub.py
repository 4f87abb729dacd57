"""One stream-log tailer per web process, fanning entries out to SSE subscribers.

A background thread reads new ``StreamEntry`` rows in id order and hands each to the
subscriptions of its stream or environment. It wakes on Redis pub/sub when ``REDIS_URL`` is set
(and polls slowly as a safety net); otherwise it polls the table every
``HOT_STREAM_POLL_SECONDS``. Either way there is one query loop per process, not one per
connection.

Ids are assigned when rows are inserted, but on PostgreSQL transactions may commit out of id
order. The tailer therefore delivers strictly in id order: when it sees a gap after its cursor
it waits (up to ``GAP_TIMEOUT``) for the missing ids to commit before passing them, and then
treats the gap as a rolled-back insert. Subscribers can therefore resume from the last id they
saw (``Last-Event-ID``) without losing or reordering anything.
"""

import asyncio
import logging
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Max

from hotapi.redis_client import redis_client

from .models import StreamEntry

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "hot:stream-log"  # appends publish here (events/streamlog.py) to wake hubs
GAP_TIMEOUT = 2.0
BATCH = 1000
SUBSCRIBER_BUFFER = 5000
REDIS_SAFETY_POLL = 1.0


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
        self._gap_at: int | None = None
        self._gap_since = 0.0
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
            self._cursor = StreamEntry.objects.aggregate(last=Max("id"))["last"] or 0
            connection.close()  # the caller's thread must not keep a connection for this
            self._thread = threading.Thread(target=self._run, name="hot-stream-hub", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        redis_wait = self._redis_waiter()
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
            if redis_wait is not None:
                redis_wait(REDIS_SAFETY_POLL if self._gap_at is None else interval)
            else:
                self._wake.wait(interval)
                self._wake.clear()

    def _redis_waiter(self):
        if not settings.REDIS_URL:
            return None
        try:
            pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(NOTIFY_CHANNEL)
        except Exception:
            log.warning("Redis pub/sub unavailable; the stream hub polls instead", exc_info=True)
            return None

        def wait(timeout: float) -> None:
            try:
                message = pubsub.get_message(timeout=timeout)
                while message is not None:  # coalesce a burst of wake-ups into one poll
                    message = pubsub.get_message(timeout=0)
            except Exception:
                log.warning("Redis pub/sub failed; polling", exc_info=True)
                time.sleep(settings.HOT_STREAM_POLL_SECONDS)

        return wait

    def poll_once(self) -> int:
        """Deliver committed entries after the cursor, in id order. Returns how many."""
        rows = list(
            StreamEntry.objects.filter(id__gt=self._cursor)
            .order_by("id")
            .values_list(*ENTRY_FIELDS)[:BATCH]
        )
        ready: list[Entry] = []
        expected = self._cursor + 1
        now = time.monotonic()
        waiting = False
        for row in rows:
            if row[0] != expected:
                if self._gap_at != expected:
                    self._gap_at, self._gap_since = expected, now
                if now - self._gap_since < GAP_TIMEOUT:
                    waiting = True  # an earlier insert may still commit: wait for it
                    break
            ready.append(entry_from_row(row))
            expected = row[0] + 1
        if not waiting:
            self._gap_at = None
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
