"""Publishing events: who may publish what, streams, and the event row with its log entry.

Routing a published event to runs is not done here: ``event_publish`` hands the committed
event to whatever registered with ``events.dispatch`` (the ``runs`` app).
"""

import re
import uuid
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from files.blobs import spilling
from hotapi import sql
from hotapi.errors import DomainError, Forbidden, InvalidInput, NotFound
from hotapi.jsonvalues import find_unstorable

from . import streamlog
from .dispatch import event_committed
from .models import Event, Stream, StreamEntry

CALL_EVENT = "hot:call"
SCHEDULE_EVENT = "hot:schedule"
SCHEDULE_NEW_EVENT = "hot:schedule:new"
SCHEDULE_CANCEL_EVENT = "hot:schedule:cancel"
RESERVED_PREFIX = "hot:"
EVENT_TYPE_REGEX = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,254}$"
EVENT_TYPE_RULE = (
    "must be 1-255 characters: letters, digits, '.', '_', ':', '/', '-', "
    "starting with a letter or digit"
)


class EventSource(StrEnum):
    """Who publishes: it decides which of the reserved ``hot:`` types may be published."""

    CLIENT = "client"  # the API and the SDK
    RUNTIME = "runtime"  # Hot code, through send()
    PLATFORM = "platform"  # the service itself (the scheduler)


PUBLISHABLE_RESERVED_TYPES = {
    EventSource.CLIENT: frozenset({CALL_EVENT}),
    EventSource.RUNTIME: frozenset({CALL_EVENT, SCHEDULE_NEW_EVENT, SCHEDULE_CANCEL_EVENT}),
}


def check_publishable(event_type: str, *, source: EventSource) -> None:
    """``hot:`` event types are the platform's own. Clients may publish ``hot:call``; Hot code
    may also ask for dynamic schedules; the platform publishes any."""
    if not event_type.startswith(RESERVED_PREFIX) or source == EventSource.PLATFORM:
        return
    allowed = PUBLISHABLE_RESERVED_TYPES[source]
    if event_type not in allowed:
        raise Forbidden(
            f"Event type '{event_type}' is reserved (only {', '.join(sorted(allowed))} may be "
            "published)"
        )


def check_sent_event(event_type: str, event_data) -> None:
    """What Hot code sends meets the rules the API applies to clients' events (the API checks
    them in its serializer): a valid type, and data every database can store."""
    if not re.fullmatch(EVENT_TYPE_REGEX, event_type):
        raise InvalidInput(f"Event type {event_type!r} {EVENT_TYPE_RULE}")
    problem = find_unstorable(event_data, max_depth=settings.HOT_MAX_JSON_DEPTH)
    if problem is not None:
        raise InvalidInput(f"Event data {problem.path or 'value'}: {problem.message}")


def stream_resolve(*, environment, stream_id: uuid.UUID | None = None) -> Stream:
    """The stream ``stream_id`` of ``environment``, created when unknown; another environment's
    stream is 404. Without an id a new stream is made."""
    if stream_id is None:
        return Stream.objects.create(environment=environment)
    stream = Stream.objects.filter(pk=stream_id).first()
    if stream is None:
        try:
            with transaction.atomic():
                return Stream.objects.create(id=stream_id, environment=environment)
        except IntegrityError:  # created concurrently
            stream = Stream.objects.get(pk=stream_id)
    if stream.environment_id != environment.id:
        raise NotFound("Stream not found")
    return stream


def event_summary(event: Event) -> dict:
    return {
        "event_id": str(event.id),
        "env_id": str(event.environment_id),
        "stream_id": str(event.stream_id),
        "event_type": event.event_type,
        "project_id": None,
    }


def event_publish(
    *,
    environment,
    event_type: str,
    event_data,
    source: EventSource,
    stream_id=None,
    stream=None,
    origin_run=None,
    routed_runs: int | None = None,
) -> Event:
    """Commit the event (and its stream) first; it is handed over for routing after commit.

    The stream (when new), the event, its blobs and its stream entry are written together, as
    one transaction: on PostgreSQL outside a caller's transaction, in one round trip
    (``hotapi.sql.run_atomically``).

    ``routed_runs`` is for a publisher that creates the event's runs itself in the same
    transaction (the scheduler): the event is recorded as already routed to that many runs.
    """
    check_publishable(event_type, source=source)
    if source == EventSource.RUNTIME:
        check_sent_event(event_type, event_data)
    if stream is None and stream_id is not None:
        stream = stream_resolve(environment=environment, stream_id=stream_id)
    stream = stream or Stream(environment=environment)
    now = timezone.now()
    with spilling(environment_id=environment.id, source="event_data") as spill:
        event = Event(
            environment=environment,
            stream=stream,
            event_type=event_type,
            event_data=spill(event_data, inline_root=True),
            event_time=now,
            origin_run=origin_run,
            dispatched_at=now if routed_runs is not None else None,
            handled_runs=routed_runs or 0,
        )
        statements = [sql.insert_statement([stream])] if stream._state.adding else []
        statements.append(sql.insert_statement([event]))
        if blobs := spill.rows_statement():
            statements.append(blobs)
        # The row keeps large parts as blobs; the caller gets the data as published.
        event.event_data = event_data
        entry = streamlog.entry(
            environment_id=environment.id,
            stream_id=stream.id,
            kind="event:created",
            payload=event_summary(event),
        )
        sql.run_atomically([*statements, streamlog.append_statement([entry])])
        sql.mark_saved([stream, event])
    transaction.on_commit(streamlog.notify_appended)
    if routed_runs is None:
        event_id = str(event.id)
        transaction.on_commit(lambda: event_committed(event_id))
    return event


MAX_BATCH_EVENTS = 1000


def _batch_stream(environment, stream_id, known: dict) -> Stream:
    if stream_id is None:
        return Stream(environment=environment)  # created with the batch
    if stream_id not in known:
        known[stream_id] = stream_resolve(environment=environment, stream_id=stream_id)
    return known[stream_id]


@transaction.atomic
def event_publish_batch(*, environment, items: list[dict], source: EventSource) -> list:
    """Publish many events in one transaction. ``items`` are validated publish bodies; the
    result has, per item and in order, its ``Event`` or the ``DomainError`` that refused it
    (a reserved type, another environment's stream). Refused items do not stop the others."""
    results: list = [None] * len(items)
    accepted: list[tuple[int, Event]] = []
    known_streams: dict = {}
    now = timezone.now()
    with spilling(environment_id=environment.id, source="event_data") as spill:
        for index, item in enumerate(items):
            try:
                check_publishable(item["event_type"], source=source)
                stream = _batch_stream(environment, item.get("stream_id"), known_streams)
            except DomainError as exc:
                results[index] = exc
                continue
            event = Event(
                environment=environment,
                stream=stream,
                event_type=item["event_type"],
                event_data=spill(item["event_data"], inline_root=True),
                event_time=now,
            )
            accepted.append((index, event))
        Stream.objects.bulk_create(
            [event.stream for _, event in accepted if event.stream._state.adding]
        )
        Event.objects.bulk_create([event for _, event in accepted])
    for index, event in accepted:
        event.event_data = items[index]["event_data"]  # as published (the rows hold blobs)
    streamlog.append_many(
        [
            StreamEntry(
                environment_id=environment.id,
                stream_id=event.stream_id,
                kind="event:created",
                payload=event_summary(event),
            )
            for _, event in accepted
        ]
    )
    event_ids = [str(event.id) for _, event in accepted]

    def hand_over():
        for event_id in event_ids:
            event_committed(event_id)

    transaction.on_commit(hand_over)
    for index, event in accepted:
        results[index] = event
    return results
