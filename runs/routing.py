"""Routing a published event to runs: handlers of deployed builds, or ``hot:call``."""

import logging
from datetime import timedelta

from django.utils import timezone

from builds.selectors import serving_builds, serving_event_handlers
from events import streamlog
from events.models import Event
from events.services import CALL_EVENT, event_summary
from files.blobs import is_blob_ref, rehydrated
from hotapi.db import retrying

from .execution import execute_run
from .models import Run, RunType
from .retries import retry_policy
from .services import enqueue_runs, run_create, run_create_failed, run_transaction

log = logging.getLogger(__name__)


def handler_argument(event: Event) -> dict:
    """What an event handler receives."""
    return {"type": event.event_type, "data": event.event_data}


def _handler_runs(event: Event) -> list[Run]:
    handlers = list(
        serving_event_handlers(environment_id=event.environment_id, event_type=event.event_type)
    )
    once = [handler for handler in handlers if handler.once or handler.meta.get("once") is True]
    selected = [handler for handler in handlers if handler not in once] + once[:1]
    return [
        run_create(
            environment_id=event.environment_id,
            stream_id=event.stream_id,
            event_id=event.id,
            route_key=f"handler:{handler.id}",
            run_type=RunType.EVENT,
            function=f"{handler.ns}/{handler.var}",
            args=[handler_argument(event)],
            project_id=handler.build.project_id,
            build_id=handler.build_id,
            origin_run_id=event.origin_run_id,
            retry_policy=retry_policy(handler.meta),
        )
        for handler in selected
    ]


def _call_run(event: Event) -> Run:
    """``hot:call`` with ``{fn, args}`` runs that function from the deployed build defining it.
    A malformed call or an unknown function becomes a failed run with the reason, so a waiting
    caller (the SDK's ``call_hot``) gets an answer instead of waiting for a timeout."""
    data = event.event_data if isinstance(event.event_data, dict) else {}
    fn, args = data.get("fn"), data.get("args", [])
    if is_blob_ref(args):  # a large argument list kept as a blob: its items are the arguments
        args = rehydrated(args, environment_id=event.environment_id)
    common = {
        "environment_id": event.environment_id,
        "stream_id": event.stream_id,
        "event_id": event.id,
        "route_key": "call",
        "run_type": RunType.CALL,
        "origin_run_id": event.origin_run_id,
    }
    if not isinstance(fn, str) or not fn.startswith("::") or "/" not in fn:
        return run_create_failed(
            message='hot:call needs event_data {fn: "::ns/var", args: [...]}',
            function=str(fn)[:512] if fn else "",
            args=[],
            **common,
        )
    if not isinstance(args, list):
        args = [args]
    builds = serving_builds(environment_id=event.environment_id).order_by("project__name", "id")
    for build in builds:
        if fn in (build.inspection.get("functions") or []):
            return run_create(
                function=fn, args=args, project_id=build.project_id, build_id=build.id, **common
            )
    return run_create_failed(
        message=f"No deployed build defines {fn}", function=fn, args=args, **common
    )


def event_route(*, event_id, execute_inline: bool = False) -> list:
    """Create the event's runs once. A repeated dispatch finds the event dispatched and does
    nothing; the (event, route) unique constraint backs that up under any race.

    With ``execute_inline`` (the routing task) the first resulting run is executed right here
    and only the others are sent to the broker: the routing message is that run's message, so
    every run costs one message. Should this worker die first, the sweep dispatches the run,
    which waits with no message out for it."""
    runs, inline = _route(event_id, execute_inline)
    if inline is not None:
        execute_run(run_id=inline)
    return [run.pk for run in runs]


@retrying()
def _route(event_id, execute_inline: bool) -> tuple[list[Run], object]:
    with run_transaction():
        event = Event.objects.select_for_update(no_key=True).filter(pk=event_id).first()
        if event is None or event.dispatched_at is not None:
            return [], None
        if event.event_type == CALL_EVENT:
            runs = [_call_run(event)]
        else:
            runs = _handler_runs(event)
        event.dispatched_at = timezone.now()
        event.handled_runs = len(runs)
        event.save(update_fields=["dispatched_at", "handled_runs"])
        streamlog.append(
            environment_id=event.environment_id,
            stream_id=event.stream_id,
            kind="event:handled",
            payload=event_summary(event),
        )
        queued = [run.pk for run in runs if run.status == "queued"]
        inline = queued.pop(0) if execute_inline and queued else None
        enqueue_runs(queued)
    return runs, inline


def sweep_undispatched(*, older_than_seconds: float = 3.0) -> int:
    """Route events whose dispatch message was lost (broker down at publish time, or the
    broker restarted empty). Callers make sure the work queue is empty first: an event whose
    message is still waiting in a backlog is not lost."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = list(
        Event.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    for event_id in pending:
        event_route(event_id=event_id)
    return len(pending)
