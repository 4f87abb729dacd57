"""``GET /v1/runs/{id}/subscribe``: ``run:update`` events, on the SSE machinery of
``events/sse.py``.

The subscription follows the run's retries, as the official SDK's ``runs.wait`` expects: a
failed attempt that will be retried is ``pending_retry`` (not terminal), and its next attempt's
updates follow on the same connection, each with that attempt's ``run_id``; the stream ends
with the last attempt's outcome. Subscribing to an attempt that was already retried starts
from the newest attempt.
"""

from drf_spectacular.utils import extend_schema

from events.hub import get_hub
from events.sse import RUN_KINDS, SSEView, live, sse, with_blobs
from events.sse_schema import RUN, sse_event, sse_response
from hotapi.api.permissions import needs, url_id

from .models import TERMINAL_STATUSES
from .selectors import run_get
from .serializers import RunSerializer
from .services import retry_successor


def _is_retry_of(run: dict, watched: str) -> bool:
    return run.get("origin_run_id") == watched and (run.get("retry_attempt") or 0) > 0


async def run_updates(subscription, *, run_id: str, snapshot: dict):
    watched = run_id
    try:
        yield sse("run:update", {"run": snapshot}, subscription.cursor)
        if snapshot["status"] in TERMINAL_STATUSES:
            return
        async for item in live(subscription, max_seconds=None, heartbeat=b":keepalive\n\n"):
            if isinstance(item, bytes):
                yield item
                continue
            for entry in item:
                if entry.kind not in RUN_KINDS:
                    continue
                run = entry.payload["run"]
                if entry.run_id != watched:
                    if not _is_retry_of(run, watched):
                        continue
                    watched = entry.run_id  # the next attempt
                entry = await with_blobs(entry)
                yield entry.frame(
                    "run", lambda e=entry: sse("run:update", {"run": e.payload["run"]}, e.id)
                )
                if run["status"] in TERMINAL_STATUSES:
                    return
    finally:
        subscription.close()


@extend_schema(tags=["runs"])
class RunSubscribeView(SSEView):
    """``run:update`` events: the current state first, then every change, following retries;
    closes after the run (or its last retry) ends."""

    permission_rules = {"get": needs("run", "read", path=url_id("run_id"))}

    @extend_schema(
        operation_id="run_subscribe",
        description="`run:update` events: the run's current state first, then every change; "
        "the stream ends once the run has succeeded, failed or been cancelled.",
        responses={
            (200, "text/event-stream"): sse_response(
                "The run's state first, then every change; the stream ends with the run",
                sse_event("run:update", {"run": RUN}, ["run"]),
            )
        },
    )
    def get(self, request, run_id):
        run = run_get(environment=request.auth.environment, run_id=run_id)
        subscription = get_hub().subscribe(stream_id=run.stream_id)
        run = run_get(environment=request.auth.environment, run_id=run_id)  # after subscribing
        while (successor := retry_successor(run)) is not None:
            run = successor
        generator = run_updates(
            subscription, run_id=str(run.id), snapshot=dict(RunSerializer(run).data)
        )
        return self.stream_response(generator, subscription)
