"""Running one function for an inbound request (a webhook call, an MCP tool call) and
waiting for its outcome.

The call is an ordinary run of type ``call``, on a stream of its own, executed by a worker
like every other run (the environment's concurrency slots, compute quota, lease and run log
apply). The web process subscribes to the run's stream on its stream hub *before* the run is
sent, then waits for the run's terminal entry, at most ``timeout`` seconds: one hub tailer
per process serves every waiting request, so no request polls the database. A call still
unfinished at the timeout is cancelled (it would otherwise run for nobody) and the caller
gets a timeout error naming the run.
"""

import time
from dataclasses import dataclass

from asgiref.sync import async_to_sync

from events.hub import get_hub
from events.models import Stream
from hotapi.errors import Conflict
from hotapi.ids import uuid7
from runs.models import TERMINAL_STATUSES, Run, RunType
from runs.services import enqueue_runs, run_cancel, run_create, run_transaction

TERMINAL_KINDS = frozenset({"run:stop", "run:fail", "run:cancel"})


@dataclass
class CallOutcome:
    run: Run
    timed_out: bool


def call_function(*, environment, build, function: str, args: list, origin: str, timeout: float):
    """Run ``function`` of ``build`` with ``args`` and wait for it (see the module doc).
    ``origin`` names what asked (``webhook:<id>``, ``mcp:<service>/<tool>``) in the run's
    route key."""
    stream_id = uuid7()
    subscription = get_hub().subscribe(stream_id=stream_id)
    try:
        with run_transaction():
            Stream.objects.create(id=stream_id, environment=environment)
            run = run_create(
                environment_id=environment.id,
                stream_id=stream_id,
                run_type=RunType.CALL,
                function=function,
                args=args,
                route_key=origin[:80],
                project_id=build.project_id,
                build_id=build.id,
            )
            enqueue_runs([run.pk])
        async_to_sync(_until_finished)(subscription, str(run.pk), timeout)
    finally:
        subscription.close()
    run = Run.objects.get(pk=run.pk)
    if run.status in TERMINAL_STATUSES:
        return CallOutcome(run=run, timed_out=False)
    try:
        run_cancel(run=run)
    except Conflict:  # it ended just now: its outcome stands
        return CallOutcome(run=Run.objects.get(pk=run.pk), timed_out=False)
    return CallOutcome(run=Run.objects.get(pk=run.pk), timed_out=True)


async def _until_finished(subscription, run_id: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        for entry in await subscription.next_batch(remaining):
            if entry.run_id == run_id and entry.kind in TERMINAL_KINDS:
                return True
    return False
