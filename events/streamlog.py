"""Appending to the durable stream log, and waking the web processes that tail it."""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hotapi.redis_client import redis_client

from .hub import NOTIFY_CHANNEL, wake_local_hub
from .models import StreamEntry

log = logging.getLogger(__name__)

# After Redis failed, wake-ups are not attempted for this long (each would wait for a timeout).
REDIS_RETRY_SECONDS = 5.0
_redis_retry_at = 0.0


def notify_appended() -> None:
    """Wake the stream hubs now rather than at their next poll: this process's directly,
    other processes' through Redis when it is configured."""
    global _redis_retry_at

    wake_local_hub()
    if not settings.REDIS_URL or time.monotonic() < _redis_retry_at:
        return
    try:
        redis_client().publish(NOTIFY_CHANNEL, b"1")
    except Exception as exc:  # a missed wake-up only delays delivery until the next poll
        _redis_retry_at = time.monotonic() + REDIS_RETRY_SECONDS
        log.warning("Could not publish a stream wake-up (%s); hubs poll meanwhile", exc)


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


def entry(*, environment_id, stream_id, kind: str, payload: dict, run_id=None) -> StreamEntry:
    """An entry not saved yet, to add with others in one statement (``append_many``)."""
    return StreamEntry(
        environment_id=environment_id,
        stream_id=stream_id,
        kind=kind,
        payload=payload,
        run_id=run_id,
    )


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
