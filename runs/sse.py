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
from events.sse import RUN_KINDS, SSEView, updates
from events.sse_schema import RUN, sse_event, sse_response
from hotapi.api.permissions import needs, url_id

from .models import TERMINAL_STATUSES
from .selectors import run_get
from .serializers import RunSerializer
from .services import retry_successor


def _is_retry_of(run: dict, watched: str) -> bool:
    return run.get("origin_run_id") == watched and (run.get("retry_attempt") or 0) > 0


def _follower(run_id: str):
    """Accepts the run's entries, then, once it is retried, its next attempt's."""
    watched = run_id

    def follows(entry) -> bool:
        nonlocal watched
        if entry.kind not in RUN_KINDS:
            return False
        if entry.run_id != watched:
            if not _is_retry_of(entry.payload["run"], watched):
                return False
            watched = entry.run_id  # the next attempt
        return True

    return follows


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
        generator = updates(
            subscription,
            name="run:update",
            field="run",
            snapshot=dict(RunSerializer(run).data),
            terminal=TERMINAL_STATUSES,
            follows=_follower(str(run.id)),
        )
        return self.stream_response(generator, subscription)
