"""Run lifecycle: create, claim a worker slot, finish, cancel, rerun; status counters."""

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from environments.models import Environment
from events import streamlog
from hotapi import metrics
from hotapi.errors import Conflict

from .models import TERMINAL_STATUSES, Run, RunCounter, RunStatus, RunType, RunVariable
from .selectors import compute_quota_refusal
from .serializers import run_json

log = logging.getLogger(__name__)

COUNTER_SLOTS = 8
TERMINAL_KIND = {
    RunStatus.SUCCEEDED: "run:stop",
    RunStatus.FAILED: "run:fail",
    RunStatus.CANCELLED: "run:cancel",
}


def failure_result(message: str, err=None) -> dict:
    """A failed run's result, in Hot's shape."""
    return {"$type": "::hot::run/Failure", "$val": {"msg": message, "err": err}}


# --- counters --------------------------------------------------------------------------------


def _count(environment_id, status: str, delta: int) -> None:
    slot = random.randrange(COUNTER_SLOTS)
    updated = RunCounter.objects.filter(
        environment_id=environment_id, status=status, slot=slot
    ).update(count=F("count") + delta)
    if not updated:
        counter, _ = RunCounter.objects.get_or_create(
            environment_id=environment_id, status=status, slot=slot
        )
        RunCounter.objects.filter(pk=counter.pk).update(count=F("count") + delta)


def _move(run: Run, new_status: str) -> None:
    _count(run.environment_id, run.status, -1)
    _count(run.environment_id, new_status, +1)
    run.status = new_status


def run_counters_reconcile(*, environment_id) -> dict[str, tuple[int, int]]:
    """Make an environment's status counters agree with its runs again (after rows were
    changed outside the services). Returns ``{status: (counted, actual)}`` for what was wrong.

    The environment's counter rows are locked first: a status change committing meanwhile
    either waited for the lock (and adds its delta afterwards) or created a new slot row that
    this never touches, so the totals stay exact either way.
    """
    with transaction.atomic():
        rows = list(RunCounter.objects.select_for_update().filter(environment_id=environment_id))
        actual = dict.fromkeys(RunStatus.values, 0)
        actual.update(
            Run.objects.filter(environment_id=environment_id)
            .values_list("status")
            .annotate(total=Count("id"))
            .order_by()
        )
        counted = dict.fromkeys(RunStatus.values, 0)
        for row in rows:
            counted[row.status] += row.count
        wrong = {
            status: (counted[status], actual[status])
            for status in RunStatus.values
            if counted[status] != actual[status]
        }
        for status, (before, after) in wrong.items():
            locked = next((row for row in rows if row.status == status), None)
            if locked is None:
                locked, _ = RunCounter.objects.get_or_create(
                    environment_id=environment_id, status=status, slot=0
                )
            RunCounter.objects.filter(pk=locked.pk).update(count=F("count") + (after - before))
    return wrong


# --- stream log ------------------------------------------------------------------------------


def _log_run(run: Run, kind: str) -> None:
    payload = {"run": run_json(run)}
    if kind != "run:start":
        payload["error"] = run.error or None
    streamlog.append(
        environment_id=run.environment_id,
        stream_id=run.stream_id,
        kind=kind,
        payload=payload,
        run_id=run.id,
    )


# --- create ----------------------------------------------------------------------------------


def run_create(
    *,
    environment_id,
    stream_id,
    run_type: str,
    function: str,
    args: list,
    route_key: str,
    event_id=None,
    project_id=None,
    build_id=None,
    origin_run_id=None,
) -> Run:
    run = Run.objects.create(
        environment_id=environment_id,
        stream_id=stream_id,
        event_id=event_id,
        route_key=route_key,
        run_type=run_type,
        function=function,
        args=args,
        project_id=project_id,
        build_id=build_id,
        origin_run_id=origin_run_id,
    )
    _count(environment_id, RunStatus.QUEUED, +1)
    log.info(
        "Run %s queued: %s (%s)",
        run.id,
        function,
        run_type,
        extra={"run_id": str(run.id), "function": function, "run_type": run_type},
    )
    return run


def run_create_failed(*, message: str, **fields) -> Run:
    """A run that could not start (e.g. ``hot:call`` of an unknown function): it is recorded
    and reported on its stream like any failure, so waiting callers get an answer."""
    run = run_create(**fields)
    now = timezone.now()
    run.start_time = run.stop_time = now
    run.duration_ms = 0
    run.error = message
    run.result = failure_result(message)
    _move(run, RunStatus.FAILED)
    run.save()
    _log_run(run, "run:start")
    _log_run(run, "run:fail")
    _report_finish(run)
    return run


def enqueue_runs(run_ids: list) -> None:
    """Send runs to the workers after commit; the sweep re-sends what the broker missed."""
    if not run_ids:
        return

    def send():
        from .tasks import execute_run

        now = timezone.now()
        for run_id in run_ids:
            try:
                execute_run.delay(str(run_id))
            except Exception:
                log.warning("Could not enqueue run %s; the sweep will retry", run_id)
                continue
            Run.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(enqueued_at=now)

    transaction.on_commit(send)


# --- claim and finish ------------------------------------------------------------------------


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.HOT_RUN_LEASE_SECONDS)


def run_claim(*, run_id, worker: str) -> Run | None:
    """Move a queued run to running if the environment has a free slot. Returns None when the
    run is not queued (a duplicate message) or the environment is at max_concurrent_runs (the
    run stays queued and is started when a slot frees)."""
    with transaction.atomic():
        # Claims of one environment are serialized so the concurrency limit holds.
        environment = (
            Environment.objects.select_for_update(of=("self",)).filter(runs__id=run_id).first()
        )
        if environment is None:
            return None
        if (refusal := compute_quota_refusal(environment=environment)) is not None:
            return _refuse_queued(run_id, refusal)
        running = Run.objects.filter(
            environment_id=environment.id, status=RunStatus.RUNNING
        ).count()
        if running >= environment.max_concurrent_runs:
            return None
        now = timezone.now()
        claimed = Run.objects.filter(
            pk=run_id, status=RunStatus.QUEUED, cancel_requested=False
        ).update(
            status=RunStatus.RUNNING,
            start_time=now,
            lease_expires_at=now + lease_duration(),
            worker=worker,
        )
        run = Run.objects.select_related("project", "build").get(pk=run_id)
        if not claimed:
            if run.status == RunStatus.QUEUED:  # cancelled before it started
                _finish(run, RunStatus.CANCELLED, error="Cancelled before it started")
            return None
        _count(environment.id, RunStatus.QUEUED, -1)
        _count(environment.id, RunStatus.RUNNING, +1)
        _log_run(run, "run:start")
    log.info(
        "Run %s started: %s on %s",
        run.id,
        run.function,
        worker,
        extra={"run_id": str(run.id), "function": run.function, "worker": worker},
    )
    return run


def _refuse_queued(run_id, reason: str) -> None:
    """A queued run that may not start ends failed with ``reason`` (running runs finish)."""
    run = Run.objects.select_related("project").get(pk=run_id)
    if run.status == RunStatus.QUEUED:
        _finish(run, RunStatus.FAILED, error=reason)


def _finish(run: Run, status: str, *, result=None, error: str = "") -> None:
    now = timezone.now()
    run.stop_time = now
    if run.start_time is None:
        run.start_time = now
    run.duration_ms = int((now - run.start_time).total_seconds() * 1000)
    run.result = (
        result
        if result is not None
        else (failure_result(error) if status != RunStatus.SUCCEEDED else None)
    )
    run.error = error
    run.lease_expires_at = None
    _move(run, status)
    run.save(
        update_fields=[
            "status",
            "start_time",
            "stop_time",
            "duration_ms",
            "result",
            "error",
            "lease_expires_at",
            "cancel_requested",
        ]
    )
    _log_run(run, TERMINAL_KIND[status])
    _report_finish(run)


def _report_finish(run: Run) -> None:
    metrics.runs_finished.labels(run.status).inc()
    metrics.run_duration.observe(run.duration_ms / 1000)
    outcome = f": {run.error}" if run.error else ""
    log.info(
        "Run %s %s after %d ms: %s%s",
        run.id,
        run.status,
        run.duration_ms,
        run.function,
        outcome,
        extra={
            "run_id": str(run.id),
            "function": run.function,
            "status": run.status,
            "duration_ms": run.duration_ms,
        },
    )


def run_finish(*, run_id, status: str, result=None, error: str = "", variables=()) -> bool:
    """Record the outcome of a running run. False when it was already ended (e.g. by the
    lease reaper), in which case nothing changes."""
    with transaction.atomic():
        run = Run.objects.select_for_update(of=("self",)).select_related("project").get(pk=run_id)
        if run.status != RunStatus.RUNNING:
            return False
        RunVariable.objects.bulk_create(variables, batch_size=500)
        _finish(run, status, result=result, error=error)
        environment_id = run.environment_id
    start_queued_runs(environment_id=environment_id)
    return True


def start_queued_runs(*, environment_id) -> None:
    """Enqueue the oldest waiting runs of an environment, as many as there are free slots."""
    waiting_runs = Run.objects.filter(
        environment_id=environment_id, status=RunStatus.QUEUED, cancel_requested=False
    )
    if not waiting_runs.exists():  # the common case: one cheap look at a partial index
        return
    environment = Environment.objects.get(pk=environment_id)
    running = Run.objects.filter(environment_id=environment_id, status=RunStatus.RUNNING).count()
    free = environment.max_concurrent_runs - running
    if free <= 0:
        return
    waiting = list(waiting_runs.order_by("created_at").values_list("pk", flat=True)[:free])
    with transaction.atomic():
        enqueue_runs(waiting)


def heartbeat(*, run_id) -> bool:
    """Extend a running run's lease; False when the run is no longer running here."""
    return bool(
        Run.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
            lease_expires_at=timezone.now() + lease_duration()
        )
    )


def reap_expired_leases() -> int:
    """End runs whose worker stopped renewing its lease (killed, crashed, lost)."""
    reaped = 0
    expired = Run.objects.filter(
        status=RunStatus.RUNNING, lease_expires_at__lt=timezone.now()
    ).values_list("pk", flat=True)[:500]
    for run_id in list(expired):
        with transaction.atomic():
            run = (
                Run.objects.select_for_update(of=("self",)).select_related("project").get(pk=run_id)
            )
            if run.status != RunStatus.RUNNING or run.lease_expires_at >= timezone.now():
                continue
            message = (
                f"The worker running this run stopped responding (lease expired; worker "
                f"{run.worker or 'unknown'})"
            )
            _finish(run, RunStatus.FAILED, error=message)
            environment_id = run.environment_id
        reaped += 1
        start_queued_runs(environment_id=environment_id)
    return reaped


# --- cancel and rerun ------------------------------------------------------------------------


def run_cancel(*, run: Run) -> Run:
    with transaction.atomic():
        run = Run.objects.select_for_update(of=("self",)).select_related("project").get(pk=run.pk)
        if run.status in TERMINAL_STATUSES:
            raise Conflict(f"Run already {run.status}")
        run.cancel_requested = True
        if run.status == RunStatus.QUEUED:
            _finish(run, RunStatus.CANCELLED, error="Cancelled before it started")
        else:
            run.save(update_fields=["cancel_requested"])
    return run


@transaction.atomic
def run_rerun(*, run: Run) -> Run:
    """A new run of the same function with the same input, linked by origin_run_id."""
    rerun = run_create(
        environment_id=run.environment_id,
        stream_id=run.stream_id,
        event_id=run.event_id,
        route_key=f"rerun:{timezone.now().timestamp()}:{random.getrandbits(32):08x}",
        run_type=run.run_type,
        function=run.function,
        args=run.args,
        project_id=run.project_id,
        build_id=run.build_id,
        origin_run_id=run.id,
    )
    enqueue_runs([rerun.pk])
    return rerun


def requeue_stalled_runs(*, older_than: timedelta) -> int:
    """Queued runs whose message may have been lost (broker down at enqueue time)."""
    cutoff = timezone.now() - older_than
    stalled = Run.objects.filter(status=RunStatus.QUEUED, cancel_requested=False).filter(
        enqueued_at__isnull=True, created_at__lt=cutoff
    ) | Run.objects.filter(status=RunStatus.QUEUED, enqueued_at__lt=cutoff)
    environments = set(stalled.values_list("environment_id", flat=True)[:1000])
    for environment_id in environments:
        start_queued_runs(environment_id=environment_id)
    return len(environments)


RUN_TYPES = [choice for choice, _ in RunType.choices]
