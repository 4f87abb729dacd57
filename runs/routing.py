"""Routing a published event to runs: handlers of deployed builds, or ``hot:call``."""

import logging
from datetime import timedelta
from functools import cache

from django.db import transaction
from django.utils import timezone

from builds.selectors import cached_event_handlers, serving_builds, serving_version_sql
from events import streamlog
from events.models import Event
from events.services import CALL_EVENT, event_summary
from files.blobs import is_blob_ref, rehydrated
from hotapi import sql
from hotapi.db import retrying

from .execution import execute_claimed, execute_run, worker_name
from .models import Run, RunStatus, RunType
from .retries import retry_policy
from .services import (
    enqueue_new_runs,
    environment_counted,
    environment_lock_statements,
    insert_new_runs,
    may_start_now,
    new_run,
    run_changed,
    run_create_failed,
    run_entry,
    run_transaction,
    write_at_end,
)

log = logging.getLogger(__name__)


@cache
def _with_serving_version() -> dict:
    """What the routing transaction reads with the event: the serving version of its
    environment, under which its handlers are cached."""
    return {"serving_version": serving_version_sql(sql.column_of(Event, "environment"))}


@cache
def _environment_of_event_sql() -> str:
    environment, pk = sql.column(Event, "environment"), sql.column(Event, "id")
    return f"SELECT {environment} FROM {sql.table(Event)} WHERE {pk} = %s"


def _lock_event(event_id, *, with_environment: bool) -> tuple[Event | None, tuple | None]:
    """The event's row, locked, with its serving version. ``with_environment`` (the routing
    task, which starts a run if it may): its environment is locked and its running runs
    counted as ``may_start_now`` does, in the same round trip and after the event, the order
    in which routing always took the two locks."""
    extra = _with_serving_version()
    statements = [sql.row_statement(Event, {"id": event_id}, lock=True, extra=extra)]
    if with_environment:
        of_event = sql.Selected(_environment_of_event_sql(), (sql.db_value(Event, "id", event_id),))
        statements += environment_lock_statements(of_event)
    event_rows, *environment_results = sql.run_together(statements)
    event = sql.row_instance(Event, event_rows[0], extra) if event_rows else None
    counted = environment_counted(environment_results) if environment_results else None
    return event, counted


def handler_argument(event: Event) -> dict:
    """What an event handler receives."""
    return {"type": event.event_type, "data": event.event_data}


def _handler_runs(event: Event, start) -> list[Run]:
    handlers = cached_event_handlers(
        environment_id=event.environment_id,
        event_type=event.event_type,
        version=event.serving_version,
    )
    once = [handler for handler in handlers if handler.once or handler.meta.get("once") is True]
    selected = [handler for handler in handlers if handler not in once] + once[:1]
    runs = []
    for handler in selected:
        run = new_run(
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
            worker=start() if not runs else "",
        )
        run.build, run.project = handler.build, handler.build.project
        runs.append(run)
    return runs


def _call_run(event: Event, start) -> Run:
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
    builds = (
        serving_builds(environment_id=event.environment_id)
        .select_related("project")
        .order_by("project__name", "id")
    )
    for build in builds:
        if fn in (build.inspection.get("functions") or []):
            run = new_run(
                function=fn,
                args=args,
                project_id=build.project_id,
                build_id=build.id,
                worker=start(),
                **common,
            )
            run.build, run.project = build, build.project
            return run
    return run_create_failed(
        message=f"No deployed build defines {fn}", function=fn, args=args, **common
    )


def event_route(*, event_id, execute_inline: bool = False) -> list:
    """Create the event's runs once. A repeated dispatch finds the event dispatched and does
    nothing; the (event, route) unique constraint backs that up under any race.

    With ``execute_inline`` (the routing task) the first resulting run is executed right here
    and only the others are sent to the broker: the routing message is that run's message, so
    every run costs one message. When its environment has a free slot, the run is claimed in
    the routing transaction itself (created running, leased to this worker: one commit for
    routing and claim); should this worker die before finishing it, the lease reaper ends it
    as for any run whose worker died (retried under its policy). Otherwise it is created
    queued and claimed as any other run, and should this worker die first, the sweep
    dispatches it."""
    runs, inline, started = _route(event_id, execute_inline)
    if started is not None:
        execute_claimed(started)
    elif inline is not None:
        execute_run(run_id=inline)
    return [run.pk for run in runs]


@retrying()
def _route(event_id, execute_inline: bool) -> tuple[list[Run], object, Run | None]:
    with run_transaction():
        event, counted = _lock_event(event_id, with_environment=execute_inline)
        if event is None or event.dispatched_at is not None:
            return [], None, None

        def start() -> str:  # asked once, right before the first run is created
            free = execute_inline and may_start_now(event.environment_id, counted=counted)
            return worker_name() if free else ""

        if event.event_type == CALL_EVENT:
            runs = [_call_run(event, start)]
        else:
            runs = _handler_runs(event, start)
        started = runs[0] if runs and runs[0].status == RunStatus.RUNNING else None
        queued = [run for run in runs if run.status == RunStatus.QUEUED and run._state.adding]
        inline = queued.pop(0) if execute_inline and started is None and queued else None
        enqueue_new_runs(queued)
        new = [run for run in runs if run._state.adding]  # a failed call run is saved already
        if new:
            insert_new_runs(new)
        event.dispatched_at = timezone.now()
        event.handled_runs = len(runs)
        write_at_end(sql.update_statement(event, ("dispatched_at", "handled_runs")))
        entries = [
            streamlog.entry(
                environment_id=event.environment_id,
                stream_id=event.stream_id,
                kind="event:handled",
                payload=event_summary(event),
            )
        ]
        if started is not None:
            entries.append(run_entry(started, "run:start"))
        write_at_end(streamlog.append_statement(entries))
        transaction.on_commit(streamlog.notify_appended)
        if started is not None:
            run_changed(started, "run:start")
    return runs, (inline.pk if inline is not None else None), started


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
