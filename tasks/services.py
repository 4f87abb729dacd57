"""Background tasks: start, cancel, the inbox (send, receive), checkpoints, and how a task
follows the run that executes it.

A task is executed as a run of type ``task`` on the task's stream: claimed like any run
(within the environment's ``max_concurrent_runs``), kept alive by its lease, reaped when its
worker dies, retried under its retry option, cancelled through the run's cancellation. The
run pipeline tells this app of every change (``runs.extensions.on_run_change``) in the
change's transaction, and the task takes Hot's status from it:

    run:start → running    run:stop → completed    run:cancel → cancelled
    run:fail → failed (timed_out when the run hit its time limit, the task's timeout)
    run:retry → queued again, ``next_retry_at`` set; the next attempt is a new run

Each change of a task is a ``task:update`` entry of its stream (what the SSE endpoints send).
Lock order: the run's row (locked by the run pipeline) before the task's.
"""

import logging
import uuid
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from events import streamlog
from files.blobs import rehydrated, spilling
from hotapi.errors import Conflict, InvalidInput, NotFound
from runs.models import Run, RunType
from runs.retries import retry_policy
from runs.services import enqueue_runs, retry_successor, run_cancel, run_create, run_transaction

from .models import TERMINAL_TASK_STATUSES, Task, TaskMessage, TaskStatus
from .serializers import task_json

log = logging.getLogger(__name__)

CODE = "code"
MIN_TIMEOUT_MS = 1000
# hotlang's message when a run passes its time limit: for a task, its timeout.
TIME_LIMIT_MESSAGE = "time limit exceeded"


def _options(options) -> tuple[int, str, dict | None]:
    """(timeout in ms, task type, retry policy) of ``TaskOptions`` (a Map or null)."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise InvalidInput("task options must be a Map (TaskOptions)")
    timeout = options.get("timeout")
    if timeout is None:
        timeout = settings.HOT_TASK_DEFAULT_TIMEOUT_MS
    if isinstance(timeout, bool) or not isinstance(timeout, int):
        raise InvalidInput("task option timeout must be an Int of milliseconds")
    timeout = max(MIN_TIMEOUT_MS, min(timeout, settings.HOT_TASK_MAX_TIMEOUT_MS))
    task_type = options.get("type") or CODE
    if task_type != CODE:
        raise InvalidInput(
            f"task type {task_type!r} is not supported by this service (only code tasks run "
            "here: containers are out of scope)"
        )
    policy = retry_policy({"retry": options["retry"]}) if options.get("retry") else None
    return timeout, task_type, policy


def _log(task: Task, change: str | None = None) -> None:
    """The task's state as a ``task:update`` entry of its stream; ``change`` tells the
    environment stream what happened (``started``, ``complete``)."""
    payload = {"task": task_json(task)}
    if change:
        payload["change"] = change
    if task.error:
        payload["error"] = task.error
    streamlog.append(
        environment_id=task.environment_id,
        stream_id=task.stream_id,
        kind="task:update",
        payload=payload,
        run_id=task.run_id,
    )


def task_start(*, origin_run: Run, function: str, args=None, options=None) -> Task:
    """Queue ``function(args)`` as a task on the origin run's stream, with its build."""
    timeout_ms, task_type, policy = _options(options)
    if origin_run.build_id is None:
        raise InvalidInput("a task needs a build: this run has none")
    with (
        run_transaction(),
        spilling(environment_id=origin_run.environment_id, source="task_args") as spill,
    ):
        stored_args = spill(args)
        run = run_create(
            environment_id=origin_run.environment_id,
            stream_id=origin_run.stream_id,
            run_type=RunType.TASK,
            function=function,
            args=[stored_args],
            route_key="task",
            project_id=origin_run.project_id,
            build_id=origin_run.build_id,
            origin_run_id=origin_run.pk,
            retry_policy=policy,
        )
        task = Task.objects.create(
            environment_id=origin_run.environment_id,
            stream_id=origin_run.stream_id,
            project_id=origin_run.project_id,
            build_id=origin_run.build_id,
            origin_run=origin_run,
            run=run,
            function_name=function,
            task_type=task_type,
            args=stored_args,
            options=options or {},
            timeout_ms=timeout_ms,
        )
        _log(task)
        enqueue_runs([run.pk])
    log.info(
        "Task %s queued: %s (from run %s)",
        task.pk,
        function,
        origin_run.pk,
        extra={"task_id": str(task.pk), "function": function, "run_id": str(origin_run.pk)},
    )
    return task


# --- following the run -----------------------------------------------------------------------


def _terminal_status(run: Run, kind: str) -> str:
    if kind == "run:stop":
        return TaskStatus.COMPLETED
    if kind == "run:cancel":
        return TaskStatus.CANCELLED
    if (run.error or "").startswith(TIME_LIMIT_MESSAGE):
        return TaskStatus.TIMED_OUT
    return TaskStatus.FAILED


def _follow(task: Task, run: Run, kind: str) -> str | None:
    """Take the task's state from its run's change; returns what the environment stream
    should hear of it."""
    task.run = run
    task.retry_attempt = run.retry_attempt
    if kind == "run:start":
        first = task.start_time is None
        task.status = TaskStatus.RUNNING
        task.start_time = task.start_time or run.start_time
        task.next_retry_at = None
        return "started" if first else None
    task.result = run.result
    task.error = run.error
    if kind == "run:retry":
        task.status = TaskStatus.QUEUED
        task.next_retry_at = run.next_retry_at
        return None
    task.status = _terminal_status(run, kind)
    task.next_retry_at = None
    task.stop_time = run.stop_time
    started = task.start_time or run.start_time or run.stop_time
    task.duration_ms = max(0, int((run.stop_time - started).total_seconds() * 1000))
    return "complete"


def on_run_change(run: Run, kind: str) -> None:
    """Registered with ``runs.extensions`` for task runs: one changed (in its transaction)."""
    tasks = Task.objects.select_for_update()
    task = tasks.filter(run_id=run.pk).first()
    if task is None and run.origin_run_id is not None:  # a retry: the task follows it
        task = tasks.filter(run_id=run.origin_run_id).first()
    if task is None or task.status in TERMINAL_TASK_STATUSES:
        return
    change = _follow(task, run, kind)
    task.save()
    _log(task, change)


def task_limits(run: Run, limits):
    """A task run's limits: the task's timeout is its time limit; steps are unbounded unless
    ``HOT_TASK_MAX_STEPS`` says otherwise (the timeout bounds a task)."""
    timeout_ms = (
        Task.objects.filter(run_id=run.pk).values_list("timeout_ms", flat=True).first()
        or settings.HOT_TASK_DEFAULT_TIMEOUT_MS
    )
    return replace(
        limits, max_seconds=timeout_ms / 1000, max_steps=settings.HOT_TASK_MAX_STEPS or None
    )


# --- cancel, inbox, checkpoints --------------------------------------------------------------


def _latest_attempt(task: Task) -> Run | None:
    run = task.run
    while run is not None and (successor := retry_successor(run)) is not None:
        run = successor
    return run


def task_cancel(*, task: Task) -> bool:
    """Cancel a queued or running task (through its run: a queued one ends at once, a running
    one within a moment, when its worker notices). False when it had already ended."""
    if task.status in TERMINAL_TASK_STATUSES:
        return False
    run = _latest_attempt(task)
    if run is None:
        return False
    try:
        run_cancel(run=run)
    except Conflict:  # the run ended meanwhile
        return False
    return True


def get_task(*, environment_id, task_id) -> Task:
    try:
        parsed = uuid.UUID(str(task_id))
    except ValueError:
        raise InvalidInput(f"invalid task id {str(task_id)[:80]!r}") from None
    task = Task.objects.filter(environment_id=environment_id, pk=parsed).first()
    if task is None:
        raise NotFound(f"task not found: {parsed}")
    return task


def task_send(*, task: Task, payload) -> bool:
    """Put ``payload`` in the task's inbox; False when the task has ended (nothing would ever
    receive it)."""
    if task.status in TERMINAL_TASK_STATUSES:
        return False
    with (
        transaction.atomic(),
        spilling(environment_id=task.environment_id, source="task_message") as spill,
    ):
        TaskMessage.objects.create(task=task, payload=spill(payload))
    return True


def task_receive(*, task_id) -> tuple[bool, object]:
    """(True, the next message of the task's inbox) or (False, None) when it is empty."""
    with transaction.atomic():
        task = Task.objects.select_for_update().only("environment_id", "inbox_cursor")
        task = task.get(pk=task_id)
        message = (
            TaskMessage.objects.filter(task_id=task_id, id__gt=task.inbox_cursor)
            .order_by("id")
            .first()
        )
        if message is None:
            return False, None
        Task.objects.filter(pk=task_id).update(inbox_cursor=message.id)
    return True, rehydrated(message.payload, environment_id=task.environment_id)


def task_checkpoint(*, task_id, environment_id, data) -> None:
    with (
        transaction.atomic(),
        spilling(environment_id=environment_id, source="task_checkpoint") as spill,
    ):
        Task.objects.filter(pk=task_id).update(checkpoint=spill(data), checkpoint_at=timezone.now())


def task_restore(*, task: Task):
    return rehydrated(task.checkpoint, environment_id=task.environment_id)


def task_result(*, task: Task) -> dict:
    """What ``::hot::task/await`` returns of a task (Hot's TaskResult; the container fields
    are null for code tasks)."""
    execution_ms = None
    if task.run is not None and task.run.duration_ms is not None:
        execution_ms = task.run.duration_ms
    return {
        "id": str(task.pk),
        "status": task.status,
        "duration_ms": task.duration_ms,
        "execution_ms": execution_ms,
        "result": rehydrated(task.result, environment_id=task.environment_id),
    }


def task_messages_prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Forget the inbox messages of tasks that ended more than ``older_than`` ago."""
    cutoff = timezone.now() - older_than
    deleted, _ = TaskMessage.objects.filter(
        task__status__in=TERMINAL_TASK_STATUSES, task__stop_time__lt=cutoff
    ).delete()
    return deleted
