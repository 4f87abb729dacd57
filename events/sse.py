"""Server-Sent Events: the wire format, the live loop over the stream hub, and the stream and
environment endpoints (the run endpoint, ``/runs/{id}/subscribe``, is in ``runs/sse.py``).

The wire format is what the official SDK parses: ``event: <name>`` and one ``data:`` line of
JSON carrying ``type``, blank-line separated, LF only. Beyond the reference server every event
from the stream log carries ``id: <log id>``, and ``Last-Event-ID`` resumes after it.

Views authenticate, look things up and register with the process's stream hub *before* any
history is read or any event published, then hand an async generator to the ASGI server; no
database connection is held while a stream is open.
"""

import asyncio
import json
import re

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.views import APIView

from files.blobs import Rehydrator, contains_blob_ref
from hotapi import metrics
from hotapi.api.permissions import body_field, body_id, needs, url_id
from hotapi.api.renderers import EnvelopeJSONRenderer, EventStreamRenderer
from hotapi.api.schema import error_responses
from hotapi.api.views import LargeBodyMixin
from hotapi.errors import InvalidInput
from projects.selectors import project_get

from . import selectors, services
from .hub import ENTRY_FIELDS, Entry, entry_from_row, get_hub
from .models import StreamEntry
from .serializers import EventPublishSerializer
from .sse_schema import ENV_RESPONSE, STREAM_RESPONSE, SUBSCRIBE_WITH_EVENT_RESPONSE
from .stream_slots import StreamSlot, stream_slot_acquire

# ``run:retry``: a run failed and will be retried (it is ``pending_retry``); its next attempt
# is a new run on the same stream, for the same event, with ``origin_run_id`` pointing back.
RUN_KINDS = ("run:start", "run:stop", "run:fail", "run:cancel", "run:retry")
# ``task:update``: a background task changed (the ``tasks`` app writes them, ``{task}``).
TASK_KIND = "task:update"
REPLAYED_KINDS = (*RUN_KINDS, TASK_KIND)
STREAM_KINDS = (*REPLAYED_KINDS, "stream:data", "run:log")
ENV_KINDS = (*RUN_KINDS, "event:created", "event:handled", TASK_KIND)
REPLAY_RUN_ENTRIES = 200
HISTORY_PAGE = 1000

MAX_EVENT_ID = 2**63 - 1
LAST_EVENT_ID = OpenApiParameter(
    "Last-Event-ID",
    {"type": "integer", "minimum": 0, "maximum": MAX_EVENT_ID},
    OpenApiParameter.HEADER,
    description="Resume right after this event id (the `id:` of an event received before)",
)
LAST_EVENT_ID_QUERY = OpenApiParameter(
    "last_event_id",
    {"type": "integer", "minimum": 0, "maximum": MAX_EVENT_ID},
    description="The same as the `Last-Event-ID` header, for clients that cannot set headers",
)
STREAM_DESCRIPTION = (
    "Follow a stream: run start, stop, fail and cancel, and the data runs stream. Without "
    "`Last-Event-ID` the stream's recent run events come first; with it, everything after "
    "that id. Ends with `stream:complete` after the stream time limit (300 s by default)."
)
PROJECT_FILTER = OpenApiParameter(
    "project", str, description="Only run events of this project (name or id); empty for all"
)


def sse(kind: str, data: dict, entry_id: int | None = None) -> bytes:
    body = json.dumps({"type": kind, **data}, separators=(",", ":"), default=str)
    head = f"id: {entry_id}\n" if entry_id is not None else ""
    return f"{head}event: {kind}\ndata: {body}\n\n".encode()


# --- formatting of log entries per endpoint ------------------------------------------------


def stream_chunk(entry: Entry, project_id: str | None = None) -> bytes | None:
    if entry.kind not in STREAM_KINDS:
        return None
    return entry.frame(("stream", project_id), lambda: _stream_frame(entry, project_id))


def _stream_frame(entry: Entry, project_id: str | None) -> bytes | None:
    if entry.kind in ("stream:data", "run:log"):
        return sse(entry.kind, entry.payload, entry.id)
    if entry.kind == TASK_KIND:
        return sse(TASK_KIND, {"task": entry.payload["task"]}, entry.id)
    run = entry.payload["run"]
    if project_id and run.get("project_id") != project_id:
        return None
    return sse(entry.kind, {"run": run}, entry.id)


def env_chunk(entry: Entry) -> bytes | None:
    if entry.kind not in ENV_KINDS:
        return None
    return entry.frame("env", lambda: _env_frame(entry))


def _task_env_frame(entry: Entry) -> bytes | None:
    """``task:started`` and ``task:complete`` (flat, as Hot's environment stream has them);
    other changes of a task are not environment events."""
    task, change = entry.payload["task"], entry.payload.get("change")
    data = {
        "task_id": task["task_id"],
        "env_id": task["env_id"],
        "stream_id": task["stream_id"],
        "function_name": task["function_name"],
    }
    if change == "started":
        return sse("task:started", {**data, "task_type": task["task_type"]}, entry.id)
    if change == "complete":
        error = task["status"] in ("failed", "timed_out") and entry.payload.get("error")
        data.update(status=task["status"], duration_ms=task["duration_ms"], error=error or None)
        return sse("task:complete", data, entry.id)
    return None


def _env_frame(entry: Entry) -> bytes | None:
    if entry.kind == TASK_KIND:
        return _task_env_frame(entry)
    if entry.kind.startswith("event:"):
        return sse(entry.kind, entry.payload, entry.id)
    run = entry.payload["run"]
    data = {
        "run_id": run["run_id"],
        "env_id": run["env_id"],
        "stream_id": run["stream_id"],
        "event_id": run["event_id"],
        "project_id": run["project_id"],
        "fn_name": run.get("function"),
        "run_type": run["run_type"],
    }
    if entry.kind != "run:start":
        data["duration_ms"] = run.get("duration_ms")
    if entry.kind in ("run:fail", "run:retry"):
        data["error"] = entry.payload.get("error")
    if entry.kind == "run:retry":
        data["retry_attempt"] = run.get("retry_attempt")
        data["next_retry_at"] = run.get("next_retry_at")
    if entry.kind == "run:cancel":
        data["reason"] = entry.payload.get("error")
    return sse(entry.kind, data, entry.id)


# --- large payloads: blob references resolved as entries are sent --------------------------


def _rehydrated_payload(entry: Entry) -> dict:
    try:
        return Rehydrator(entry.environment_id)(entry.payload)
    finally:
        connection.close()


async def with_blobs(entry: Entry) -> Entry:
    """The entry with the large parts of its payload (a run's result kept as blobs) put back,
    read in a worker thread; once per entry, whichever connection sends it first."""
    if entry.rendered.get("blobs") is None:
        entry.rendered["blobs"] = contains_blob_ref(entry.payload)
    if entry.rendered["blobs"]:
        payload = await sync_to_async(_rehydrated_payload, thread_sensitive=False)(entry)
        if entry.rendered["blobs"]:  # another connection may have finished first
            entry.payload = payload
            entry.rendered["blobs"] = False
    return entry


# --- history reads (in a worker thread, connection released afterwards) ----------------------


def _history_page(filters: dict, after: int, upto: int, kinds, limit: int, newest: bool):
    try:
        rows = StreamEntry.objects.filter(
            id__gt=after, id__lte=upto, kind__in=kinds, **filters
        ).order_by("-id" if newest else "id")
        rows = [entry_from_row(row) for row in rows.values_list(*ENTRY_FIELDS)[:limit]]
        return rows[::-1] if newest else rows
    finally:
        connection.close()


async def history(filters: dict, after: int, upto: int, kinds):
    """Entries after ``after`` up to the subscription's cursor, oldest first, paged."""
    fetch = sync_to_async(_history_page, thread_sensitive=False)
    while after < upto:
        page = await fetch(filters, after, upto, kinds, HISTORY_PAGE, False)
        for entry in page:
            yield entry
        if len(page) < HISTORY_PAGE:
            return
        after = page[-1].id


async def recent_run_entries(filters: dict, upto: int):
    """Without Last-Event-ID, a stream subscription first replays the recent run and task
    events of the stream (as the reference server does), so a reconnecting client learns what
    finished."""
    fetch = sync_to_async(_history_page, thread_sensitive=False)
    for entry in await fetch(filters, 0, upto, REPLAYED_KINDS, REPLAY_RUN_ENTRIES, True):
        yield entry


# --- the live loop ---------------------------------------------------------------------------


async def live(subscription, *, max_seconds: float | None, heartbeat: bytes):
    """Batches of live entries; heartbeat comments while idle; ends after ``max_seconds``
    (yielding None once as the signal) or when the subscriber fell too far behind."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds if max_seconds else None
    interval = settings.HOT_SSE_HEARTBEAT_SECONDS
    while True:
        timeout = interval
        if deadline is not None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                yield None
                return
            timeout = min(timeout, remaining)
        batch = await subscription.next_batch(timeout)
        if subscription.overflowed:
            return
        if not batch:
            if deadline is None or deadline - loop.time() > 0:
                yield heartbeat
            continue
        yield batch


async def updates(subscription, *, name: str, field: str, snapshot: dict, terminal, follows):
    """The ``name`` events of one thing (``{"type", field: ...}``): ``snapshot`` first, then the
    payload of each live entry ``follows(entry)`` accepts, until a ``status`` in ``terminal``;
    heartbeats ``:keepalive``, no time limit. (``/runs/{id}`` and ``/tasks/{id}/subscribe``.)"""
    try:
        yield sse(name, {field: snapshot}, subscription.cursor)
        if snapshot["status"] in terminal:
            return
        async for item in live(subscription, max_seconds=None, heartbeat=b":keepalive\n\n"):
            if isinstance(item, bytes):
                yield item
                continue
            for entry in item:
                if not follows(entry):
                    continue
                entry = await with_blobs(entry)
                yield entry.frame(name, lambda e=entry: sse(name, {field: e.payload[field]}, e.id))
                if entry.payload[field]["status"] in terminal:
                    return
    finally:
        subscription.close()


_EVENT_ID = re.compile(r"[0-9]{1,19}")


def _event_id(raw: str, name: str) -> int:
    if not _EVENT_ID.fullmatch(raw) or int(raw) > MAX_EVENT_ID:
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise InvalidInput(
            f"{name} must be an event id from this API (0 to {MAX_EVENT_ID}), got {shown!r}",
            details={name: ["must be a non-negative integer"]},
        )
    return int(raw)


def parse_last_event_id(request) -> int | None:
    """``Last-Event-ID`` (or ``?last_event_id=``); the header wins when both are sent, and
    each must be valid."""
    header = request.META.get("HTTP_LAST_EVENT_ID")
    query = request.query_params.get("last_event_id")
    parsed = [
        _event_id(raw, name)
        for raw, name in ((header, "Last-Event-ID"), (query, "last_event_id"))
        if raw is not None
    ]
    return parsed[0] if parsed else None


class SSEView(APIView):
    renderer_classes = [EnvelopeJSONRenderer, EventStreamRenderer]
    stream_slot: StreamSlot | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method != "OPTIONS":
            # Taken before the view looks anything up or publishes; handed to the stream, or
            # given back in finalize_response when no stream starts.
            self.stream_slot = stream_slot_acquire(credential=request.auth)

    def finalize_response(self, request, response, *args, **kwargs):
        if self.stream_slot is not None and not getattr(response, "holds_stream_slot", False):
            self.stream_slot.release()
        if getattr(response, "status_code", 200) >= 400:
            # Errors before a stream starts are ordinary JSON error bodies.
            request.accepted_renderer = EnvelopeJSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    def stream_response(self, generator, subscription) -> StreamingHttpResponse:
        close_old_connections()
        connection.close()  # do not pin a database connection to a long-lived stream
        response = StreamingHttpResponse(generator, content_type="text/event-stream")
        response["Cache-Control"] = "no-store"
        response["X-Accel-Buffering"] = "no"
        response._resource_closers.append(subscription.close)
        response._resource_closers.append(self.stream_slot.release)
        response.holds_stream_slot = True
        metrics.sse_connections.inc()
        response._resource_closers.append(metrics.sse_connections.dec)
        return response


async def stream_events(subscription, *, stream_id: str, project_id, last_event_id, first=()):
    try:
        for chunk in first:
            yield chunk
        filters = {"stream_id": stream_id}
        if last_event_id is not None:
            source = history(filters, last_event_id, subscription.cursor, STREAM_KINDS)
        else:
            source = recent_run_entries(filters, subscription.cursor)
        async for entry in source:
            if chunk := stream_chunk(await with_blobs(entry), project_id):
                yield chunk
        async for item in live(
            subscription, max_seconds=settings.HOT_SSE_STREAM_SECONDS, heartbeat=b":\n\n"
        ):
            if item is None:
                yield sse("stream:complete", {"stream_id": stream_id})
                return
            if isinstance(item, bytes):
                yield item
                continue
            for entry in item:
                if chunk := stream_chunk(await with_blobs(entry), project_id):
                    yield chunk
    finally:
        subscription.close()


@extend_schema(tags=["streams"])
class StreamSubscribeView(SSEView):
    """Follow everything on a stream: run start/stop/fail/cancel and stream data."""

    permission_rules = {
        "get": needs("stream", "read", path=url_id("stream_id")),
        "post": needs("stream", "read", path=url_id("stream_id")),
    }

    def _subscribe(self, request, stream_id):
        environment = request.auth.environment
        stream = selectors.stream_get(environment=environment, stream_id=stream_id)
        project = request.query_params.get("project")
        project_id = str(project_get(environment=environment, ref=project).id) if project else None
        last_event_id = parse_last_event_id(request)
        subscription = get_hub().subscribe(stream_id=stream.id)
        generator = stream_events(
            subscription,
            stream_id=str(stream.id),
            project_id=project_id,
            last_event_id=last_event_id,
        )
        return self.stream_response(generator, subscription)

    @extend_schema(
        operation_id="stream_subscribe",
        description=STREAM_DESCRIPTION,
        parameters=[LAST_EVENT_ID, LAST_EVENT_ID_QUERY, PROJECT_FILTER],
        responses={(200, "text/event-stream"): STREAM_RESPONSE},
    )
    def get(self, request, stream_id):
        return self._subscribe(request, stream_id)

    @extend_schema(
        operation_id="stream_subscribe_post",
        description=STREAM_DESCRIPTION,
        request=None,
        parameters=[LAST_EVENT_ID, LAST_EVENT_ID_QUERY, PROJECT_FILTER],
        responses={(200, "text/event-stream"): STREAM_RESPONSE},
    )
    def post(self, request, stream_id):
        return self._subscribe(request, stream_id)


@extend_schema(tags=["streams"])
class SubscribeWithEventView(LargeBodyMixin, SSEView):
    """Subscribe to a stream, then publish an event on it; the first SSE event is
    ``event:published``."""

    permission_rules = {
        "post": needs("event", "create", path=body_field("event_type"))
        & needs("stream", "read", path=body_id("stream_id")),
    }

    @extend_schema(
        operation_id="stream_subscribe_with_event",
        description="Subscribe to a stream (`stream_id` of the body, or a new one), then "
        "publish the event on it: the first event is `event:published`, then everything that "
        "follows on the stream. Everything that can fail is checked before publishing.",
        request=EventPublishSerializer,
        parameters=[PROJECT_FILTER],
        responses={
            (200, "text/event-stream"): SUBSCRIBE_WITH_EVENT_RESPONSE,
            **error_responses(403),
        },
    )
    def post(self, request):
        environment = request.auth.environment
        payload = EventPublishSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        source = services.EventSource.CLIENT
        services.check_publishable(data["event_type"], source=source)
        project = request.query_params.get("project")
        # Everything that can fail is checked before the event is published.
        project_id = str(project_get(environment=environment, ref=project).id) if project else None
        stream = services.stream_resolve(environment=environment, stream_id=data.get("stream_id"))
        subscription = get_hub().subscribe(stream_id=stream.id)
        try:
            event = services.event_publish(
                environment=environment,
                event_type=data["event_type"],
                event_data=data["event_data"],
                source=source,
                stream=stream,
            )
        except BaseException:
            subscription.close()
            raise
        published = sse(
            "event:published",
            {
                "event_id": str(event.id),
                "stream_id": str(stream.id),
                "event_type": event.event_type,
            },
        )
        generator = stream_events(
            subscription,
            stream_id=str(stream.id),
            project_id=project_id,
            last_event_id=subscription.cursor,  # only what happens from now on
            first=[published],
        )
        return self.stream_response(generator, subscription)


async def env_events(subscription, *, environment_id: str, last_event_id):
    try:
        if last_event_id is not None:
            filters = {"environment_id": environment_id}
            async for entry in history(filters, last_event_id, subscription.cursor, ENV_KINDS):
                if chunk := env_chunk(entry):
                    yield chunk
        async for item in live(
            subscription, max_seconds=settings.HOT_SSE_STREAM_SECONDS, heartbeat=b":\n\n"
        ):
            if item is None:
                return
            if isinstance(item, bytes):
                yield item
                continue
            for entry in item:
                if chunk := env_chunk(entry):
                    yield chunk
    finally:
        subscription.close()


@extend_schema(tags=["env"])
class EnvSubscribeView(SSEView):
    """Everything in the environment: runs starting and ending, events created and handled."""

    # Every stream of the environment: reading them all is what this needs.
    permission_rules = {"get": needs("env", "read") & needs("stream", "read")}

    @extend_schema(
        operation_id="env_subscribe",
        description="Everything in the environment: runs starting and ending, events created "
        "and handled. Send `Last-Event-ID` to resume after an event without losing any.",
        parameters=[LAST_EVENT_ID, LAST_EVENT_ID_QUERY],
        responses={(200, "text/event-stream"): ENV_RESPONSE},
    )
    def get(self, request):
        environment = request.auth.environment
        last_event_id = parse_last_event_id(request)
        subscription = get_hub().subscribe(environment_id=environment.id)
        generator = env_events(
            subscription, environment_id=str(environment.id), last_event_id=last_event_id
        )
        return self.stream_response(generator, subscription)
