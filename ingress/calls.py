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

import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from django.conf import settings

from events.hub import get_hub
from events.models import Stream
from hotapi.errors import Conflict, LimitExceeded
from hotapi.ids import uuid7
from runs.models import TERMINAL_STATUSES, Run, RunType
from runs.services import enqueue_runs, run_cancel, run_create, run_transaction

TERMINAL_KINDS = frozenset({"run:stop", "run:fail", "run:cancel"})

_waiting: Counter = Counter()
_waiting_lock = threading.Lock()


@contextmanager
def waiting_slot(environment_id):
    """At most ``HOT_INGRESS_MAX_WAITING_CALLS`` calls of one environment wait at once in this
    process (each holds a thread while it waits); beyond, the call is refused (429) before any
    run is made, so one busy environment cannot pin a web process."""
    limit = settings.HOT_INGRESS_MAX_WAITING_CALLS
    with _waiting_lock:
        if limit and _waiting[environment_id] >= limit:
            raise LimitExceeded(
                f"{limit} calls of this environment are already waiting for their runs; "
                "retry when one has finished",
                code="too_many_calls_in_flight",
            )
        _waiting[environment_id] += 1
    try:
        yield
    finally:
        with _waiting_lock:
            _waiting[environment_id] -= 1
            if not _waiting[environment_id]:
                del _waiting[environment_id]


@dataclass
class CallOutcome:
    run: Run
    timed_out: bool


def call_function(*, environment, build, function: str, args: list, origin: str, timeout: float):
    """Run ``function`` of ``build`` with ``args`` and wait for it (see the module doc).
    ``origin`` names what asked (``webhook:<id>``, ``mcp:<service>/<tool>``) in the run's
    route key."""
    with waiting_slot(environment.id):
        return _call(environment, build, function, args, origin, timeout)


def _call(environment, build, function: str, args: list, origin: str, timeout: float):
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
