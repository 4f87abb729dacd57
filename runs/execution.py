"""Executing a run on a worker: load the prepared build, run the function through the
runtime with the platform's hooks, renew the lease meanwhile, record the outcome."""

import logging
import os
import socket
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from builds.preparation import build_resources, prepared_program
from events import streamlog
from events.models import Stream
from events.services import EventSource, event_publish
from files.blobs import rehydrated, spilling
from files.services import HostFiles
from hotapi.db import run_with_retries
from hotapi.errors import DomainError
from hotapi.ids import uuid7
from hotapi.runtime import get_runtime
from hotapi.timestamps import utc_timestamp
from secrets_app.services import context_values_for_project
from stores.services import DatabaseStore

from . import extensions, host, schedules, services
from .masking import mask_secrets
from .models import Run, RunStatus, RunVariable

log = logging.getLogger(__name__)

CANCEL_CHECK_INTERVAL = 0.25
HEARTBEAT_RETRY_SECONDS = 1.0


def worker_name() -> str:
    """Host and process id of the process executing (computed per call: prefork children
    must not inherit their parent's id)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class PlatformHooks:
    """What Hot code running in a run can reach: context variables, send(), stream output,
    variable capture, cancellation, and the I/O of ``runs/host.py`` (the run log, HTTP and TCP
    under the egress policy, the environment's stores and files, the build's resources).

    The runtime calls these from its execution thread and its branch threads; their database
    work goes to one helper thread per run, whose connection is closed when the run ends (see
    ``close``)."""

    def __init__(self, run: Run):
        self.run = run
        self._context: dict[str, str] | None = None
        self._next_cancel_check = 0.0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hot-hooks")
        self._used_db = False
        self.variables: list[RunVariable] = []
        self.cancelled = False
        self._set_secrets: list[str] = []  # values the code set with ::hot::ctx/set-secret
        self._log = host.RunLogBuffer(run, self._db, lambda: self.secrets)
        self._http = None
        self._tasks = None

    def _db(self, fn, *args, **kwargs):
        self._used_db = True
        return self._executor.submit(fn, *args, **kwargs).result()

    def flush_logs(self) -> None:
        """Write the run's remaining log lines; called before its outcome is recorded, so
        whoever sees the run finish (an SSE client, a waiting webhook call) finds every line."""
        self._log.flush(final=True)

    def close(self) -> None:
        self._log.flush(final=True)
        if self._http is not None:
            self._http.close()
        if self._used_db:  # else its thread was never started: nothing to close
            self._executor.submit(lambda: connection.close()).result()
        self._executor.shutdown()

    def log(self, level, message):
        self._log.write(level, message)

    def add_secret(self, value):
        self._set_secrets.append(str(value))

    def http_client(self):
        if self._http is None:
            self._http = host.http_client()
        return self._http

    def store_backend(self):
        return host.OnThread(DatabaseStore(self.run.environment_id), self._db)

    def embed(self, texts):
        return host.default_embedding(texts)

    def resources(self):
        return host.bundle_resources(self._db(build_resources, self.run.build))

    def file_store(self):
        return host.OnThread(HostFiles(self.run.environment_id, self.run.id), self._db)

    def task_service(self):
        if self._tasks is None:
            self._tasks = extensions.host_service("tasks", self.run, self._db)
        return self._tasks

    def tcp_connect(self, host_name, port, timeout, nodelay):
        return host.tcp_connect(host_name, port, timeout, nodelay)

    # Context variables are decrypted only here, on first use, and never logged.
    def ctx_get(self, key):
        if self._context is None:
            self._context = (
                self._db(context_values_for_project, project=self.run.project)
                if self.run.project
                else {}
            )
        return self._context.get(key)

    @property
    def secrets(self) -> list[str]:
        return [*(self._context or {}).values(), *self._set_secrets]

    def send(self, event_type, data):
        # What a run publishes is stored and shown like any event, so context values in it are
        # masked first (the run handling it then receives them masked as well).
        event_type = mask_secrets(str(event_type), self.secrets)
        data = mask_secrets(data, self.secrets)

        def publish():
            with transaction.atomic():
                event = event_publish(
                    environment=self.run.environment,
                    event_type=event_type,
                    event_data=data,
                    source=EventSource.RUNTIME,
                    stream=Stream.objects.get(pk=self.run.stream_id),
                    origin_run=self.run,
                )
                schedules.schedule_event_sent(run=self.run, event=event)
            return event

        try:
            event = self._db(publish)
        except DomainError as exc:  # e.g. a reserved event type: a Hot error, not a crash
            raise get_runtime().hook_error(f"send({event_type!r}) refused: {exc.message}") from None
        return {
            "event": {
                "id": str(event.id),
                "type": event.event_type,
                "time": utc_timestamp(event.event_time),
            },
            "stream": {"id": str(event.stream_id)},
            "env": {"id": str(event.environment_id)},
        }

    def stream_data(self, data_type, body):
        self._db(
            streamlog.append,
            environment_id=self.run.environment_id,
            stream_id=self.run.stream_id,
            kind="stream:data",
            run_id=self.run.id,
            payload={
                "stream_data_id": str(uuid7()),
                "run_id": str(self.run.id),
                "data_type": data_type,
                "payload": mask_secrets(body, self.secrets),
            },
        )

    def on_var(self, ns, var, value_json, start, stop):
        self.variables.append(
            RunVariable(
                run_id=self.run.id,
                sequence=len(self.variables),
                ns=ns,
                var=var,
                value=value_json,
                start_time=_aware(start),
                stop_time=_aware(stop),
            )
        )

    def is_cancelled(self) -> bool:
        now = time.monotonic()
        if now < self._next_cancel_check:
            return self.cancelled
        self._next_cancel_check = now + CANCEL_CHECK_INTERVAL
        self.cancelled = self._db(Run.objects.filter(pk=self.run.pk, cancel_requested=True).exists)
        return self.cancelled


def _aware(moment):
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(moment), tz=UTC)


class _Leases:
    """The leases of the runs this process is executing, renewed by one thread (started with
    the first run, per process: a forked worker starts its own). Each lease is renewed a third
    of a lease after it was taken or last renewed, sooner again after a failed renewal; a
    killed worker renews nothing and the reaper ends its runs."""

    def __init__(self):
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._due: dict = {}  # run id -> when its lease is renewed next (monotonic)
        self._thread: threading.Thread | None = None
        self._held = threading.Event()  # a lease was taken: look at the due times again

    @staticmethod
    def interval() -> float:
        return max(0.5, settings.HOT_RUN_LEASE_SECONDS / 3)

    def hold(self, run_id) -> None:
        with self._lock:
            self._due[run_id] = time.monotonic() + self.interval()
            self._held.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="hot-lease", daemon=True)
                self._thread.start()

    def release(self, run_id) -> None:
        with self._lock:
            self._due.pop(run_id, None)

    def _loop(self):
        while True:
            try:
                self._round()
            except Exception:  # the thread renews every run here: it must not die
                log.exception("Renewing leases failed; trying again")
                time.sleep(HEARTBEAT_RETRY_SECONDS)

    def _round(self):
        with self._lock:
            next_due = min(self._due.values(), default=None)
        now = time.monotonic()
        self._held.wait(self.interval() if next_due is None else max(0, next_due - now))
        self._held.clear()
        with self._lock:
            now = time.monotonic()
            due = [run_id for run_id, moment in self._due.items() if moment <= now]
        for run_id in due:
            self._renew(run_id)
        if due:
            connection.close()  # back to the pool between rounds

    def _renew(self, run_id) -> None:
        try:
            services.heartbeat(run_id=run_id)
            wait = self.interval()
        except Exception:  # the database is unreachable: try again soon
            log.warning("Could not renew the lease of run %s", run_id, exc_info=True)
            connection.close()
            wait = min(self.interval(), HEARTBEAT_RETRY_SECONDS)
        with self._lock:
            if run_id in self._due:  # not released meanwhile
                self._due[run_id] = time.monotonic() + wait


_leases: _Leases | None = None
_leases_lock = threading.Lock()


class LeaseKeeper:
    """Keeps the run's lease renewed while the runtime works (see ``_Leases``)."""

    def __init__(self, run_id):
        self.run_id = run_id

    def __enter__(self):
        global _leases
        with _leases_lock:
            if _leases is None or _leases.pid != os.getpid():
                _leases = _Leases()
            self.leases = _leases
        self.leases.hold(self.run_id)
        return self

    def __exit__(self, *exc):
        self.leases.release(self.run_id)


def _variables(hooks: PlatformHooks, captured) -> list[RunVariable]:
    """Variables captured through the hook, or (for runtimes that only return them) from the
    outcome; secret values are masked either way."""
    rows = hooks.variables
    if not rows and captured:
        for index, item in enumerate(captured):
            rows.append(
                RunVariable(
                    run_id=hooks.run.id,
                    sequence=index,
                    ns=item.get("ns", ""),
                    var=item.get("var", ""),
                    value=item.get("value"),
                    start_time=_aware(item.get("start_time")),
                    stop_time=_aware(item.get("stop_time")),
                )
            )
    secrets = hooks.secrets
    for row in rows:
        row.value = mask_secrets(row.value, secrets)
    return rows


def _record(run: Run, **outcome) -> None:
    """Record the outcome, through deadlocks and database restarts: ``run_finish`` checks the
    run's state under a lock, so repeating it after an unknown outcome is safe. The lease keeps
    being renewed meanwhile (by the caller's ``LeaseKeeper``)."""
    run_with_retries(
        lambda: services.run_finish(run_id=run.pk, run=run, **outcome),
        what=f"recording run {run.pk}",
        reconnect_for=settings.HOT_RUN_RECORD_RETRY_SECONDS,
    )


def _spilled_outcome(run: Run, result, variables: list[RunVariable]):
    """The result and variables with their large parts kept as blobs (saved now: the outcome
    is recorded by retried transactions)."""
    with spilling(environment_id=run.environment_id, source="run_result") as spill:
        result = spill(result)
        for row in variables:
            row.value = spill(row.value, source="run_variable")
    return result, variables


def _execute(run: Run) -> str:
    hooks = PlatformHooks(run)
    with LeaseKeeper(run.pk), closing(hooks):
        try:
            if run.build is None:
                raise RuntimeError("the run has no build to execute")
            prepared = prepared_program(run.build)
            args = rehydrated(run.args, environment_id=run.environment_id)
            limits = extensions.limits_for(run, get_runtime().limits())
            outcome = get_runtime().execute(
                prepared, run.function, args, hooks=hooks, limits=limits
            )
        except Exception as exc:  # the worker survives anything the run does
            # The exception may quote a context value: the log and the run get it masked.
            trace = "".join(traceback.format_exception(exc))
            log.error(
                "Run %s could not be executed\n%s", run.pk, mask_secrets(trace, hooks.secrets)
            )
            error = mask_secrets(f"Run could not be executed: {exc}", hooks.secrets)
            hooks.flush_logs()
            _record(run, status=RunStatus.FAILED, error=error)
            return RunStatus.FAILED
        status = outcome.status if outcome.status in RunStatus.values else RunStatus.FAILED
        result, variables = _spilled_outcome(
            run, mask_secrets(outcome.result, hooks.secrets), _variables(hooks, outcome.variables)
        )
        hooks.flush_logs()
        _record(
            run,
            status=status,
            result=result,
            error=mask_secrets(outcome.error or "", hooks.secrets),
            variables=variables,
        )
    return status


def execute_run(*, run_id) -> str:
    """Claim and execute one run, then, while its environment has runs waiting for a slot,
    carry on with those (no message is sent for them). Returns the first run's final status,
    or why nothing ran."""
    close_old_connections()
    run = services.run_claim(run_id=run_id, worker=worker_name())
    if run is None:
        return "not-claimed"
    return execute_claimed(run)


def execute_claimed(run: Run) -> str:
    """Execute a run claimed by this worker, then carry on with runs waiting for a slot in its
    environment (see ``execute_run``). Returns the run's final status."""
    status = _execute(run)
    while run := services.run_pull_next(environment_id=run.environment_id, worker=worker_name()):
        _execute(run)
    return status
