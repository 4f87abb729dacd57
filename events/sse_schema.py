"""The OpenAPI description of the SSE endpoints: each event of a stream, with its JSON payload.

An OpenAPI 3.1 schema for ``text/event-stream`` describes one event (``event``, ``id``,
``data``); ``data`` is JSON text, described with ``contentMediaType``/``contentSchema``.
Heartbeat comments are not events.
"""

from drf_spectacular.utils import OpenApiResponse

NULLABLE_STRING = {"type": ["string", "null"]}
RUN = {"$ref": "#/components/schemas/Run"}
TASK = {"$ref": "#/components/schemas/Task"}  # the tasks app's GET /v1/tasks/{id}


def sse_event(name: str, fields: dict, required=()) -> dict:
    """One event named ``name`` whose JSON payload has ``type`` = ``name`` and ``fields``."""
    payload = {
        "type": "object",
        "required": ["type", *required],
        "properties": {"type": {"const": name}, **fields},
    }
    properties = {
        "event": {"const": name},
        # Entries of the stream log carry their id (for Last-Event-ID); other events none.
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": payload,
        },
    }
    return {"type": "object", "required": ["event", "data"], "properties": properties}


def sse_response(description: str, *events: dict) -> OpenApiResponse:
    return OpenApiResponse(response={"oneOf": list(events)}, description=description)


RUN_EVENTS = [
    sse_event(kind, {"run": RUN}, ["run"])
    for kind in ("run:start", "run:stop", "run:fail", "run:cancel")
]
STREAM_DATA = sse_event(
    "stream:data",
    {
        "stream_data_id": {"type": "string", "format": "uuid"},
        "run_id": {"type": "string", "format": "uuid"},
        "data_type": {"type": "string"},
        "payload": {},
    },
    ["stream_data_id", "run_id", "data_type", "payload"],
)
TASK_UPDATE = sse_event("task:update", {"task": TASK}, ["task"])
STREAM_COMPLETE = sse_event(
    "stream:complete",
    {"stream_id": {"type": "string", "format": "uuid"}},
    ["stream_id"],
)
EVENT_PUBLISHED = sse_event(
    "event:published",
    {
        "event_id": {"type": "string", "format": "uuid"},
        "stream_id": {"type": "string", "format": "uuid"},
        "event_type": {"type": "string"},
    },
    ["event_id", "stream_id", "event_type"],
)
EVENT_SUMMARY = {
    "event_id": {"type": "string", "format": "uuid"},
    "env_id": {"type": "string", "format": "uuid"},
    "stream_id": {"type": "string", "format": "uuid"},
    "event_type": {"type": "string"},
    "project_id": NULLABLE_STRING,
}
ENV_RUN_FIELDS = {
    "run_id": {"type": "string", "format": "uuid"},
    "env_id": {"type": "string", "format": "uuid"},
    "stream_id": {"type": "string", "format": "uuid"},
    "event_id": NULLABLE_STRING,
    "project_id": NULLABLE_STRING,
    "fn_name": NULLABLE_STRING,
    "run_type": {"type": "string"},
    "duration_ms": {"type": ["integer", "null"]},
    "error": NULLABLE_STRING,
    "reason": NULLABLE_STRING,
}
ENV_TASK_FIELDS = {
    "task_id": {"type": "string", "format": "uuid"},
    "env_id": {"type": "string", "format": "uuid"},
    "stream_id": {"type": "string", "format": "uuid"},
    "function_name": {"type": "string"},
}
ENV_EVENTS = [
    *[
        sse_event(kind, ENV_RUN_FIELDS, ["run_id", "env_id", "stream_id", "run_type"])
        for kind in ("run:start", "run:stop", "run:fail", "run:cancel")
    ],
    *[
        sse_event(kind, EVENT_SUMMARY, list(EVENT_SUMMARY))
        for kind in ("event:created", "event:handled")
    ],
    sse_event(
        "task:started",
        {**ENV_TASK_FIELDS, "task_type": {"type": "string"}},
        [*ENV_TASK_FIELDS, "task_type"],
    ),
    sse_event(
        "task:complete",
        {
            **ENV_TASK_FIELDS,
            "status": {"type": "string"},
            "duration_ms": {"type": ["integer", "null"]},
            "error": NULLABLE_STRING,
        },
        [*ENV_TASK_FIELDS, "status"],
    ),
]

STREAM_RESPONSE = sse_response(
    "Run events, task updates and stream data of the stream; `stream:complete` after the "
    "stream's time limit",
    *RUN_EVENTS,
    TASK_UPDATE,
    STREAM_DATA,
    STREAM_COMPLETE,
)
SUBSCRIBE_WITH_EVENT_RESPONSE = sse_response(
    "`event:published` first, then the stream's events as for a subscription",
    EVENT_PUBLISHED,
    *RUN_EVENTS,
    TASK_UPDATE,
    STREAM_DATA,
    STREAM_COMPLETE,
)
ENV_RESPONSE = sse_response(
    "Runs starting and ending, events created and handled, tasks started and complete, in the "
    "whole environment",
    *ENV_EVENTS,
)
