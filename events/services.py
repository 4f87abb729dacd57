"""Publishing events and routing them to the handlers of deployed builds."""

import logging
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from hotapi.api.exceptions import Forbidden, NotFound

from . import streamlog
from .models import Event, Stream
from .tasks import route_event

log = logging.getLogger(__name__)

CALL_EVENT = "hot:call"
SCHEDULE_EVENT = "hot:schedule"


def check_publishable(event_type: str) -> None:
    """``hot:`` event types are the platform's own; clients may publish only ``hot:call``."""
    if event_type.startswith("hot:") and event_type != CALL_EVENT:
        raise Forbidden(f"Event type '{event_type}' is reserved (only hot:call may be published)")


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


def stream_get(*, environment, stream_id) -> Stream:
    stream = Stream.objects.filter(pk=stream_id, environment=environment).first()
    if stream is None:
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


@transaction.atomic
def event_publish(
    *, environment, event_type: str, event_data, stream_id=None, origin_run=None, stream=None
) -> Event:
    """Commit the event (and its stream) first; routing is dispatched after commit. If the
    broker is down the sweep dispatches it later, so no accepted event is lost."""

    stream = stream or stream_resolve(environment=environment, stream_id=stream_id)
    now = timezone.now()
    event = Event.objects.create(
        environment=environment,
        stream=stream,
        event_type=event_type,
        event_data=event_data,
        event_time=now,
        origin_run=origin_run,
    )
    streamlog.append(
        environment_id=environment.id,
        stream_id=stream.id,
        kind="event:created",
        payload=event_summary(event),
    )
    event_id = str(event.id)
    transaction.on_commit(lambda: _dispatch(route_event, event_id))
    return event


def _dispatch(task, *args) -> None:
    try:
        task.delay(*args)
    except Exception:  # broker unavailable: the periodic sweep will dispatch it
        log.warning("Could not enqueue %s%s; the sweep will retry", task.name, args, exc_info=True)
