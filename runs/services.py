"""Run lifecycle: create, dispatch, claim a worker slot, finish, retry, cancel, rerun; status
counters.

Lock order (the same in every transaction here, so none can deadlock with another):
the schedule row (scheduler) or the event row (routing) → the environment row → run rows →
status counters, last. Rows that foreign keys point at (environment, run, event, schedule,
build, project) are only ever locked ``FOR NO KEY UPDATE``: it serializes claims without
conflicting with the ``FOR KEY SHARE`` lock PostgreSQL's foreign-key checks take when another
transaction inserts a run, a stream entry or a variable referencing them.
Counter changes are collected during the transaction and applied at its end, netted, in one
order (see ``run_transaction``). A deadlock or serialization failure that still happens is
retried by ``hotapi.db.retrying``, never turned into an outcome.
"""

import copy
import logging
import random
import threading
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from functools import cache, partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from environments.models import Environment
from events import streamlog
from hotapi import metrics, sql
from hotapi.db import retrying
from hotapi.errors import Conflict

from . import extensions
from .models import TERMINAL_STATUSES, Run, RunCounter, RunStatus, RunType, RunVariable
from .retries import retries_left, retry_delay
from .selectors import compute_quota_refusal
from .serializers import run_json

log = logging.getLogger(__name__)

COUNTER_SLOTS = 8
TERMINAL_KIND = {
    RunStatus.SUCCEEDED: "run:stop",
    RunStatus.FAILED: "run:fail",
    RunStatus.CANCELLED: "run:cancel",
}
RETRY_KIND = "run:retry"


def failure_result(message: str, err=None) -> dict:
    """A failed run's result, in Hot's shape."""
    return {"$type": "::hot::run/Failure", "$val": {"msg": message, "err": err}}


# --- transactions and counters ---------------------------------------------------------------

_thread_slot = threading.local()


def _slot() -> int:
    """One counter slot per thread: a transaction only ever touches its own slot's rows."""
    if not hasattr(_thread_slot, "value"):
        _thread_slot.value = random.randrange(COUNTER_SLOTS)
    return _thread_slot.value


_COUNTER_FIELDS = ("environment", "status", "slot", "count")


@cache
def _add_counts_sql(rows: int, *, source: str | None = None) -> str:
    """Add to ``rows`` status counters, creating those missing, in one statement. The caller
    passes the rows sorted by environment and status: the rows are inserted or updated (and
    locked) in that order, the same in every transaction, so two cannot deadlock over them.
    With ``source`` (PostgreSQL, a CTE of the caller's statement) nothing is counted unless
    ``source`` returned a row."""
    table = sql.table(RunCounter)
    values = ", ".join(["(%s, %s, %s, %s)"] * rows)
    if source is None:
        rows_sql = f"VALUES {values}"
    else:
        names = sql.columns(RunCounter, _COUNTER_FIELDS)
        rows_sql = (
            f"SELECT delta.* FROM {source}, (VALUES {values}) AS delta({names}) "
            f"ORDER BY delta.{sql.column(RunCounter, 'environment')}, "
            f"delta.{sql.column(RunCounter, 'status')}"
        )
    key = sql.columns(RunCounter, _COUNTER_FIELDS[:3])
    count = sql.column(RunCounter, "count")
    return (
        f"INSERT INTO {table} ({sql.columns(RunCounter, _COUNTER_FIELDS)}) {rows_sql} "
        f"ON CONFLICT ({key}) DO UPDATE SET {count} = {table}.{count} + EXCLUDED.{count}"
    )


def _counter_rows(deltas: dict) -> list:
    """The parameters of ``_add_counts_sql``: this thread's slot of each changed counter, in
    lock order."""
    slot = _slot()
    params = []
    for (environment_id, status), delta in sorted(deltas.items()):
        if delta:
            environment = sql.db_value(RunCounter, "environment", environment_id)
            params += [environment, status, slot, delta]
    return params


def _counts_statement(deltas: dict) -> tuple[str, list] | None:
    params = _counter_rows(deltas)
    if not params:
        return None
    return _add_counts_sql(len(params) // len(_COUNTER_FIELDS)), params


class _Pending:
    """What a run transaction writes at its end: status-counter changes (netted) and
    statements nothing in the transaction reads back (``write_at_end``), of which the first
    ``sent`` went out early (``run_changed``)."""

    def __init__(self) -> None:
        self.counts: defaultdict = defaultdict(int)
        self.writes: list[tuple[str, list]] = []
        self.sent = 0

    def saved(self) -> tuple[dict, int, int]:
        return dict(self.counts), len(self.writes), self.sent

    def restore(self, saved: tuple[dict, int, int]) -> None:
        """After a nested block rolled back: its changes are forgotten, and what it sent is
        undone by its savepoint, so it is sent again later."""
        counts, writes, sent = saved
        self.counts.clear()
        self.counts.update(counts)
        del self.writes[writes:]
        self.sent = min(self.sent, sent)

    def send_writes(self) -> None:
        if self.sent < len(self.writes):
            sql.run_together(self.writes[self.sent :])
            self.sent = len(self.writes)

    def flush(self) -> None:
        counts = _counts_statement(self.counts)
        statements = self.writes[self.sent :] + ([counts] if counts else [])  # counters last
        if statements:
            # The transaction's last work: its COMMIT goes with them where it can.
            sql.run_and_commit(statements)


_pending: ContextVar[_Pending | None] = ContextVar("hot_run_pending", default=None)


@contextmanager
def run_transaction():
    """A transaction whose status-counter changes are applied at its end, netted and in one
    order, after the statements given to ``write_at_end`` and in the same round trip as they
    and the ``COMMIT`` where the database allows (``hotapi.sql.run_and_commit``). Nested uses
    join the outer one (and forget their changes if they roll back)."""
    pending = _pending.get()
    if pending is not None:
        saved = pending.saved()
        try:
            with transaction.atomic():
                yield
        except BaseException:
            pending.restore(saved)
            raise
        return
    pending = _Pending()
    token = _pending.set(pending)
    try:
        with transaction.atomic():
            yield
            pending.flush()
    finally:
        _pending.reset(token)


def write_at_end(statement: tuple[str, list]) -> None:
    """In a run transaction: run ``statement`` (built with ``hotapi.sql``) as the transaction
    ends, before the counters, with the other statements given here. Only for writes nothing
    in the transaction reads back (``run_changed`` runs them first for listeners)."""
    _pending.get().writes.append(statement)


def run_changed(run: Run, kind: str) -> None:
    """Tell the listeners following ``run`` (``extensions``) of a change, in its transaction,
    once the writes waiting for the transaction's end are done: a listener may read them."""
    if not extensions.follows(run):
        return
    pending = _pending.get()
    if pending is not None:
        pending.send_writes()
    extensions.run_changed(run, kind)


def _count(environment_id, status: str, delta: int) -> None:
    pending = _pending.get()
    key = (str(environment_id), str(status))
    if pending is None:
        if statement := _counts_statement({key: delta}):
            sql.run_together([statement])
    else:
        pending.counts[key] += delta


def _moved(run: Run, old_status: str, new_status: str) -> dict:
    """The counter changes of ``run`` moving between two statuses: none for a task run (the
    stats count runs, not task executions, as Hot)."""
    if run.run_type == RunType.TASK:
        return {}
    environment_id = str(run.environment_id)
    return {(environment_id, str(old_status)): -1, (environment_id, str(new_status)): 1}


def _move(run: Run, new_status: str) -> None:
    for (environment_id, status), delta in _moved(run, run.status, new_status).items():
        _count(environment_id, status, delta)
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
            .exclude(run_type=RunType.TASK)
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


def run_entry(run: Run, kind: str):
    """The stream entry of a run's change, not saved yet: the caller saves it (with others, or
    with the change itself, in one statement), then calls ``run_changed``."""
    payload = {"run": run_json(run)}
    if kind != "run:start":
        payload["error"] = run.error or None
    return streamlog.entry(
        environment_id=run.environment_id,
        stream_id=run.stream_id,
        kind=kind,
        payload=payload,
        run_id=run.id,
    )


def _log_run(run: Run, kind: str) -> None:
    streamlog.append_many([run_entry(run, kind)])
    run_changed(run, kind)


# --- create and dispatch ---------------------------------------------------------------------


def new_run(
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
    retry_policy=None,
    retry_attempt: int = 0,
    worker: str = "",
) -> Run:
    """A queued run, counted and logged as created but not inserted yet: the caller inserts it
    in this run transaction (``run_create``, or with others: ``insert_new_runs``). With
    ``worker``, one already running there: the caller checked that its environment has a free
    slot (``may_start_now``) and executes it itself after commit, and logs its ``run:start``
    (``run_entry``) with the transaction's other entries."""
    run = Run(
        **(_started_fields(worker) if worker else {}),
        environment_id=environment_id,
        stream_id=stream_id,
        event_id=event_id,
        route_key=route_key,
        run_type=RunType(run_type).value,  # a plain str, as loaded rows have it (Hot sees it)
        function=function,
        args=args,
        project_id=project_id,
        build_id=build_id,
        origin_run_id=origin_run_id,
        retry_policy=retry_policy,
        retry_attempt=retry_attempt,
    )
    if run_type != RunType.TASK:
        _count(environment_id, run.status, +1)
    log.info(
        "Run %s queued: %s (%s)",
        run.id,
        function,
        run_type,
        extra={"run_id": str(run.id), "function": function, "run_type": run_type},
    )
    if worker:
        _log_started(run)
    return run


def run_create(**fields) -> Run:
    """``new_run``, inserted now."""
    run = new_run(**fields)
    run.save(force_insert=True)
    return run


def insert_new_runs(runs: list[Run]) -> None:
    """Insert runs of ``new_run`` as the run transaction ends (``write_at_end``), in one
    statement; from here on they count as saved."""
    write_at_end(sql.insert_statement(runs))
    sql.mark_saved(runs)


def run_create_failed(*, message: str, **fields) -> Run:
    """A run that could not start (e.g. ``hot:call`` of an unknown function): it is recorded
    and reported on its stream like any failure, so waiting callers get an answer."""
    with run_transaction():
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
    """Dispatch runs: one broker message each, sent after the caller's transaction commits.

    ``enqueued_at`` is written in that transaction, so a run is never sent twice by two
    dispatchers; if the broker refuses, it is cleared again and the sweep dispatches the run
    later."""
    if not run_ids:
        return
    now = timezone.now()
    Run.objects.filter(pk__in=run_ids, status=RunStatus.QUEUED).update(enqueued_at=now)
    _send_after_commit(run_ids, now)


def enqueue_new_runs(runs: list[Run]) -> None:
    """``enqueue_runs`` for runs of ``new_run`` not inserted yet (they are inserted with
    ``enqueued_at`` set)."""
    if not runs:
        return
    now = timezone.now()
    for run in runs:
        run.enqueued_at = now
    _send_after_commit([run.pk for run in runs], now)


def _send_after_commit(run_ids: list, enqueued_at) -> None:
    def send():
        from .tasks import execute_run

        for run_id in run_ids:
            try:
                execute_run.delay(str(run_id))
            except Exception:
                log.warning("Could not enqueue run %s; the sweep will dispatch it", run_id)
                Run.objects.filter(
                    pk=run_id, status=RunStatus.QUEUED, enqueued_at=enqueued_at
                ).update(enqueued_at=None)

    transaction.on_commit(send)


def _waiting_runs(environment_id):
    """Queued runs with no message out for them, oldest first."""
    return Run.objects.filter(
        environment_id=environment_id,
        status=RunStatus.QUEUED,
        enqueued_at__isnull=True,
        cancel_requested=False,
    ).order_by("created_at")


# Every transition that takes a slot of an environment (routing a run that starts at once, a
# claim, a pull) or frees one (a finish, a reap) holds the environment's row lock, taken before
# the run's. A claim refused for want of a slot leaves its run waiting, and the finish that
# frees a slot looks for waiting runs: without the lock on both sides, a finish could commit
# its look before the refusing claim committed, while that claim had counted the finishing run
# as still running, and the run would wait for a slot nobody offers (the sweep's safety net
# aside). Holding the lock, each sees the other's work: whichever comes second waits for the
# first to commit.


def _lock_run_environment(run_id) -> Environment | None:
    rows = Environment.objects.select_for_update(no_key=True, of=("self",))
    return rows.filter(runs__id=run_id).first()


def _lock_before_freeing_a_slot(*, run_id=None, environment_id=None) -> None:
    """The environment's lock, for a finish or a reap (of ``run_id``, or in ``environment_id``).
    SQLite serializes writers: nothing to take there."""
    if not connection.features.has_select_for_update:
        return
    if environment_id is None:
        _lock_run_environment(run_id)
    else:
        sql.row_where(Environment, {"id": environment_id}, lock=True)


# Statements every run makes, built once (``hotapi.sql``). The statuses are literals, so that
# PostgreSQL can use the partial index of that status.


@cache
def _running_sql(environment_source: str = "%s") -> str:
    column = partial(sql.column, Run)
    return (
        f"SELECT COUNT(*) FROM {sql.table(Run)} WHERE {column('environment')} = "
        f"{environment_source} AND {column('status')} = '{RunStatus.RUNNING.value}'"
    )


@cache
def _any_waiting_sql() -> str:
    column = partial(sql.column, Run)
    return (
        f"SELECT 1 FROM {sql.table(Run)} WHERE {column('environment')} = %s "
        f"AND {column('status')} = '{RunStatus.QUEUED.value}' "
        f"AND {column('enqueued_at')} IS NULL AND {column('cancel_requested')} = %s LIMIT 1"
    )


def environment_lock_statements(environment) -> list[tuple[str, list]]:
    """Lock the environment's row, then count its running runs: two statements, so that the
    count (with its own snapshot, taken once the lock is granted) sees every run started by
    whoever held the lock before. ``environment`` is its id, or ``sql.Selected`` (routing
    sends these with the event's own lock). Their results become ``environment_counted``."""
    if isinstance(environment, sql.Selected):
        running = (_running_sql(f"({environment.sql})"), list(environment.params))
    else:
        running = (_running_sql(), [sql.db_value(Run, "environment", environment)])
    return [sql.row_statement(Environment, {"id": environment}, lock=True), running]


def environment_counted(results: list) -> tuple[Environment | None, int]:
    """(the locked environment or None, its running runs) from the results of
    ``environment_lock_statements``."""
    environment_rows, ((running,),) = results
    if not environment_rows:
        return None, running
    return sql.row_instance(Environment, environment_rows[0]), running


def _lock_environment_counting(environment_id) -> tuple[Environment | None, int]:
    """``environment_lock_statements`` in one round trip (``sql.run_together``)."""
    return environment_counted(sql.run_together(environment_lock_statements(environment_id)))


def _running(environment_id) -> int:
    return sql.scalar(_running_sql(), [sql.db_value(Run, "environment", environment_id)])


# (environment id, whether it had runs waiting) as this thread's last one-statement finish saw
_seen_waiting = threading.local()


def _runs_waiting(environment_id) -> bool:
    """Whether the environment has runs waiting for a slot: as the finish of this thread's
    last run there saw it (in the finish's round trip, ``_finish_in_one_statement``), else one
    look at an index."""
    seen, _seen_waiting.value = getattr(_seen_waiting, "value", None), None
    if seen is not None and seen[0] == environment_id:
        return seen[1]
    return _any_waiting(environment_id)


def _any_waiting(environment_id) -> bool:
    """Whether ``_waiting_runs`` has a row (the look every finishing run makes)."""
    environment = sql.db_value(Run, "environment", environment_id)
    return sql.scalar(_any_waiting_sql(), [environment, False]) is not None


@retrying()
def dispatch_waiting_runs(*, environment_id) -> int:
    """Send a message for waiting runs of an environment, as many as it has free slots not
    already promised to a message in flight. Returns how many were dispatched."""
    with run_transaction():
        environment, running = _lock_environment_counting(environment_id)
        if environment is None:
            return 0
        in_flight = Run.objects.filter(
            environment_id=environment_id, status=RunStatus.QUEUED, enqueued_at__isnull=False
        ).count()
        free = environment.max_concurrent_runs - running - in_flight
        if free <= 0:
            return 0
        waiting = list(
            _waiting_runs(environment_id)
            .select_for_update(no_key=True, skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:free]
        )
        enqueue_runs(waiting)
    return len(waiting)


# --- claim and finish ------------------------------------------------------------------------


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.HOT_RUN_LEASE_SECONDS)


def _started_fields(worker: str) -> dict:
    now = timezone.now()
    return {
        "status": RunStatus.RUNNING.value,
        "start_time": now,
        "lease_expires_at": now + lease_duration(),
        "worker": worker,
    }


def _log_started(run: Run) -> None:
    log.info(
        "Run %s started: %s on %s",
        run.id,
        run.function,
        run.worker,
        extra={"run_id": str(run.id), "function": run.function, "worker": run.worker},
    )


def _start(run: Run, worker: str) -> Run:
    fields = _started_fields(worker)
    _move(run, fields.pop("status"))
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=["status", "start_time", "lease_expires_at", "worker"])
    _log_run(run, "run:start")
    _log_started(run)
    return run


def may_start_now(environment_id, *, counted: tuple | None = None) -> bool:
    """In a run transaction, before creating a run to start right away: lock the environment
    (as a claim does) and say whether it has a free slot and compute quota left. False leaves
    the run to the ordinary claim, which also records a refusal. ``counted``: what
    ``environment_counted`` gave for it earlier in the transaction (locked already)."""
    environment, running = counted or _lock_environment_counting(environment_id)
    return (
        environment is not None
        and running < environment.max_concurrent_runs
        and compute_quota_refusal(environment=environment) is None
    )


def _refused_by_quota(environment, run: Run) -> bool:
    """Over its monthly compute quota, an environment starts no run: ``run`` (queued) ends
    failed with the reason; running runs finish."""
    refusal = compute_quota_refusal(environment=environment)
    if refusal is None:
        return False
    _finish(run, RunStatus.FAILED, error=refusal)
    return True


@retrying()
def run_claim(*, run_id, worker: str) -> Run | None:
    """Move a queued run to running if the environment has a free slot. Returns None when the
    run is not queued (a duplicate message, or another worker pulled it) or the environment is
    at max_concurrent_runs: the run then waits, with no message out for it, until a finishing
    worker pulls it (``run_pull_next``) or the reaper or sweep dispatches it."""
    with run_transaction():
        environment = _lock_run_environment(run_id)
        if environment is None:
            return None
        run = (
            Run.objects.select_for_update(no_key=True, of=("self",))
            .select_related("project", "build")
            .get(pk=run_id)
        )
        if run.status != RunStatus.QUEUED:
            return None
        if run.cancel_requested:
            _finish(run, RunStatus.CANCELLED, error="Cancelled before it started")
            return None
        if _refused_by_quota(environment, run):
            return None
        if _running(environment.id) >= environment.max_concurrent_runs:
            if run.enqueued_at is not None:
                run.enqueued_at = None
                run.save(update_fields=["enqueued_at"])
            return None
        return _start(run, worker)


@retrying()
def run_pull_next(*, environment_id, worker: str) -> Run | None:
    """Claim the oldest run of an environment that waits for a slot (no message out for it),
    if a slot is free: how a worker that just freed a slot carries on without a message."""
    if not _runs_waiting(environment_id):  # the common case
        return None
    with run_transaction():
        environment, running = _lock_environment_counting(environment_id)
        if environment is None or running >= environment.max_concurrent_runs:
            return None
        run = (
            _waiting_runs(environment_id)
            .select_for_update(no_key=True, skip_locked=True, of=("self",))
            .select_related("project", "build")
            .first()
        )
        if run is None or _refused_by_quota(environment, run):
            return None
        return _start(run, worker)


def _stop(run: Run, *, result, error: str) -> None:
    now = timezone.now()
    run.stop_time = now
    if run.start_time is None:
        run.start_time = now
    run.duration_ms = int((now - run.start_time).total_seconds() * 1000)
    run.result = result
    run.error = error
    run.lease_expires_at = None


_FINISH_FIELDS = [
    "status",
    "start_time",
    "stop_time",
    "duration_ms",
    "result",
    "error",
    "lease_expires_at",
    "cancel_requested",
    "next_retry_at",
]


def _finish(run: Run, status: str, *, result=None, error: str = "") -> None:
    if result is None and status != RunStatus.SUCCEEDED:
        result = failure_result(error)
    _stop(run, result=result, error=error)
    run.next_retry_at = None
    _move(run, status)
    run.save(update_fields=_FINISH_FIELDS)
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


def _conclude(run: Run, status: str, *, result=None, error: str = "") -> None:
    """End a running run: a failure with retries left becomes ``pending_retry``."""
    if (
        status != RunStatus.FAILED
        or run.cancel_requested
        or not retries_left(run.retry_policy, run.retry_attempt)
    ):
        _finish(run, status, result=result, error=error)
        return
    _stop(run, result=result if result is not None else failure_result(error), error=error)
    run.next_retry_at = run.stop_time + retry_delay(run.retry_policy, run.retry_attempt)
    _move(run, RunStatus.PENDING_RETRY)
    run.save(update_fields=_FINISH_FIELDS)
    _log_run(run, RETRY_KIND)


@retrying()
def run_finish(
    *, run_id, status: str, result=None, error: str = "", variables=(), run: Run | None = None
) -> bool:
    """Record the outcome of a running run. False when it was already ended (e.g. by the
    lease reaper), in which case nothing changes; so it is safe to call again after a lost
    connection left its first attempt's outcome unknown.

    ``run``, the instance the worker claimed, lets an outcome that cannot become a retry be
    recorded by one conditional ``UPDATE`` instead of locking and reloading the run first."""
    if run is not None and run.status == RunStatus.RUNNING and not _may_retry(run, status):
        return _finish_running(
            copy.copy(run), status, result=result, error=error, variables=variables
        )
    with run_transaction():
        _lock_before_freeing_a_slot(run_id=run_id)
        run = (
            Run.objects.select_for_update(no_key=True, of=("self",))
            .select_related("project")
            .get(pk=run_id)
        )
        if run.status != RunStatus.RUNNING:
            return False
        RunVariable.objects.bulk_create(variables, batch_size=500)
        _conclude(run, status, result=result, error=error)
    return True


def _may_retry(run: Run, status: str) -> bool:
    return status == RunStatus.FAILED and retries_left(run.retry_policy, run.retry_attempt)


# What a finishing run writes (cancel_requested may have been set meanwhile: left as it is).
_FINISHED_FIELDS = tuple(name for name in _FINISH_FIELDS if name != "cancel_requested")


def _finish_running(run: Run, status: str, *, result, error: str, variables) -> bool:
    """``run_finish`` for a worker's own running run (a copy: ``run`` is changed here, and a
    retried transaction starts again from the claimed state)."""
    _seen_waiting.value = None  # what an earlier finish saw is not this one's
    if result is None and status != RunStatus.SUCCEEDED:
        result = failure_result(error)
    _stop(run, result=result, error=error)
    run.next_retry_at = None
    run.status = status  # as the entry shows it; counted from running
    entry = run_entry(run, TERMINAL_KIND[status])
    if connection.vendor == "postgresql" and not extensions.follows(run):
        finished = _finish_in_one_statement(run, entry, variables)
    else:
        finished = _finish_in_transaction(run, entry, variables)
    if finished:
        _report_finish(run)
    return finished


def _finish_in_transaction(run: Run, entry, variables) -> bool:
    with run_transaction():
        _lock_before_freeing_a_slot(environment_id=run.environment_id)
        changed = {name: getattr(run, name) for name in _FINISHED_FIELDS}
        if not streamlog.append_with_update(
            entry, Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING), changed
        ):
            return False
        status, run.status = run.status, RunStatus.RUNNING
        _move(run, status)
        run_changed(run, entry.kind)
        RunVariable.objects.bulk_create(variables, batch_size=500)
    return True


def _finish_in_one_statement(run: Run, entry, variables) -> bool:
    """On PostgreSQL, for a run no listener follows: the conditional update, its stream entry,
    its variables and its status counters in one statement that commits on its own (one round
    trip, one commit). The rest is written only if the run was still running."""
    counter_params = _counter_rows(_moved(run, RunStatus.RUNNING, run.status))
    entry_sql, entry_params = streamlog.insert_for_each(entry, "changed")
    statement = _finish_sql(entry_sql, bool(variables), len(counter_params) // len(_COUNTER_FIELDS))
    environment = sql.db_value(Run, "environment", run.environment_id)
    params = [
        sql.db_value(Environment, "id", run.environment_id),
        *sql.saved_values(run, _FINISHED_FIELDS, add=False),
        sql.db_value(Run, "id", run.pk),
        *entry_params,
        *(sql.column_arrays(variables, sql.insert_fields(RunVariable)) if variables else []),
        *counter_params,
    ]
    # The look for runs waiting for the slot this frees goes in the same round trip, as its
    # own statement: it sees what committed before it started, after the update and after the
    # environment's lock was granted, so every claim refused before (see _lock_run_environment).
    ((finished,),), waiting = sql.run_together(
        [(statement, params), (_any_waiting_sql(), [environment, False])]
    )
    _seen_waiting.value = (run.environment_id, bool(waiting))
    if finished:
        transaction.on_commit(streamlog.notify_appended)
    return bool(finished)


@cache
def _finish_sql(entry_sql: str, variables: bool, counters: int) -> str:
    """The statement of ``_finish_in_one_statement``: the environment's row locked first (a
    finish frees a slot), then data-modifying CTEs that each write only for the row
    ``changed`` returned; it counts that row."""
    column = partial(sql.column, Run)
    assignments = ", ".join(f"{column(name)} = %s" for name in _FINISHED_FIELDS)
    lock, _ = sql.row_statement(Environment, {"id": None}, lock=True)
    ctes = [
        f"locked AS ({lock})",
        # Referring to ``locked`` makes the lock come first; a run always has its environment.
        f"changed AS (UPDATE {sql.table(Run)} SET {assignments} WHERE {column('id')} = %s "
        f"AND {column('status')} = '{RunStatus.RUNNING.value}' "
        f"AND EXISTS (SELECT 1 FROM locked) RETURNING 1)",
        f"entry AS ({entry_sql})",
    ]
    if variables:
        fields = sql.insert_fields(RunVariable)  # every field, as bulk_create writes them
        ctes.append(
            f"saved_variables AS (INSERT INTO {sql.table(RunVariable)} "
            f"({sql.columns(RunVariable, fields)}) SELECT variable.* FROM changed, "
            f"{sql.unnest_rows(RunVariable, fields, 'variable')})"
        )
    if counters:
        ctes.append(f"counted AS ({_add_counts_sql(counters, source='changed')})")
    return f"WITH {', '.join(ctes)} SELECT COUNT(*) FROM changed"


def heartbeat(*, run_id) -> bool:
    """Extend a running run's lease; False when the run is no longer running here."""
    return bool(
        Run.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
            lease_expires_at=timezone.now() + lease_duration()
        )
    )


@retrying()
def _reap(run_id) -> str | None:
    """End one run whose lease expired; returns its environment id, or None if it was not
    (any longer) expired."""
    with run_transaction():
        _lock_before_freeing_a_slot(run_id=run_id)
        run = (
            Run.objects.select_for_update(no_key=True, of=("self",))
            .select_related("project")
            .get(pk=run_id)
        )
        if run.status != RunStatus.RUNNING or run.lease_expires_at >= timezone.now():
            return None
        message = (
            f"The worker running this run stopped responding (lease expired; worker "
            f"{run.worker or 'unknown'})"
        )
        _conclude(run, RunStatus.FAILED, error=message)
        return run.environment_id


def reap_expired_leases() -> int:
    """End runs whose worker stopped renewing its lease (killed, crashed, lost): retried under
    the handler's retry policy, failed otherwise, the cause kept either way. The freed slots
    go to waiting runs."""
    expired = Run.objects.filter(
        status=RunStatus.RUNNING, lease_expires_at__lt=timezone.now()
    ).values_list("pk", flat=True)[:500]
    reaped = [_reap(run_id) for run_id in list(expired)]
    environments = {environment_id for environment_id in reaped if environment_id is not None}
    for environment_id in environments:
        dispatch_waiting_runs(environment_id=environment_id)
    return sum(1 for environment_id in reaped if environment_id is not None)


# --- retries ---------------------------------------------------------------------------------


def _follow_up(run: Run, *, route_key: str, retry_attempt: int = 0) -> Run:
    """A new run of ``run``'s function with the same input, on its stream and event, linked by
    ``origin_run_id`` and under the same retry policy."""
    return run_create(
        environment_id=run.environment_id,
        stream_id=run.stream_id,
        event_id=run.event_id,
        route_key=route_key,
        run_type=run.run_type,
        function=run.function,
        args=run.args,
        project_id=run.project_id,
        build_id=run.build_id,
        origin_run_id=run.pk,
        retry_policy=run.retry_policy,
        retry_attempt=retry_attempt,
    )


@retrying()
def _retry(run_id, now) -> Run | None:
    """Start the next attempt of a ``pending_retry`` run whose time has come: a new run linked
    by ``origin_run_id``; the failed attempt becomes ``failed`` (its outcome was reported when
    it became ``pending_retry``). The (event, route) constraint makes it happen once."""
    with run_transaction():
        run = (
            Run.objects.select_for_update(no_key=True, skip_locked=True, of=("self",))
            .filter(pk=run_id, status=RunStatus.PENDING_RETRY, next_retry_at__lte=now)
            .first()
        )
        if run is None:
            return None
        retry = _follow_up(run, route_key=f"retry:{run.pk}", retry_attempt=run.retry_attempt + 1)
        run.next_retry_at = None
        _move(run, RunStatus.FAILED)
        run.save(update_fields=["status", "next_retry_at"])
        enqueue_runs([retry.pk])
    return retry


def start_due_retries(*, now=None, batch: int = 200) -> int:
    """Start every retry whose ``next_retry_at`` has come (the maintenance loop's job)."""
    now = now or timezone.now()
    due = list(
        Run.objects.filter(status=RunStatus.PENDING_RETRY, next_retry_at__lte=now)
        .order_by("next_retry_at")
        .values_list("pk", flat=True)[:batch]
    )
    return sum(1 for run_id in due if _retry(run_id, now) is not None)


def retry_successor(run: Run) -> Run | None:
    """The next attempt of ``run``, if one was started."""
    return Run.objects.filter(origin_run_id=run.pk, route_key=f"retry:{run.pk}").first()


# --- cancel and rerun ------------------------------------------------------------------------


def run_cancel(*, run: Run) -> Run:
    with run_transaction():
        run = (
            Run.objects.select_for_update(no_key=True, of=("self",))
            .select_related("project")
            .get(pk=run.pk)
        )
        if run.status in TERMINAL_STATUSES:
            raise Conflict(f"Run already {run.status}")
        run.cancel_requested = True
        if run.status == RunStatus.QUEUED:
            _finish(run, RunStatus.CANCELLED, error="Cancelled before it started")
        elif run.status == RunStatus.PENDING_RETRY:
            _finish(run, RunStatus.CANCELLED, error="Cancelled before its retry")
        else:
            run.save(update_fields=["cancel_requested"])
    return run


def run_rerun(*, run: Run) -> Run:
    """A new run of the same function with the same input, linked by origin_run_id."""
    with run_transaction():
        route_key = f"rerun:{timezone.now().timestamp()}:{random.getrandbits(32):08x}"
        rerun = _follow_up(run, route_key=route_key)
        enqueue_runs([rerun.pk])
    return rerun


# --- lost messages ---------------------------------------------------------------------------


def dispatch_stalled_runs(
    *, waiting_for: timedelta, lost_after: timedelta, queue_empty: bool
) -> int:
    """The sweep's share for runs: environments with runs waiting for a slot longer than
    ``waiting_for`` get them dispatched; a message older than ``lost_after`` is taken for lost
    (the broker restarted empty, or a killed worker had reserved it) only while the work queue
    is empty (``queue_empty``), since otherwise it may simply still be waiting there."""
    now = timezone.now()
    environments = set(
        _waiting_runs_everywhere()
        .filter(created_at__lt=now - waiting_for)
        .values_list("environment_id", flat=True)
        .distinct()[:1000]
    )
    stale = Run.objects.filter(status=RunStatus.QUEUED, enqueued_at__lt=now - lost_after)
    if queue_empty and stale.exists():
        lost = list(stale.values_list("pk", "environment_id")[:1000])
        log.warning("Re-dispatching %d run(s) whose message was lost", len(lost))
        Run.objects.filter(pk__in=[pk for pk, _ in lost], status=RunStatus.QUEUED).update(
            enqueued_at=None
        )
        environments.update(environment_id for _, environment_id in lost)
    return sum(dispatch_waiting_runs(environment_id=env_id) for env_id in environments)


def _waiting_runs_everywhere():
    return Run.objects.filter(
        status=RunStatus.QUEUED, enqueued_at__isnull=True, cancel_requested=False
    )


RUN_TYPES = [choice for choice, _ in RunType.choices]
