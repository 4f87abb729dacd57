"""The maintenance loop: the service's periodic work, in a process of its own.

Firing schedules and retries, the lease reaper, the sweep for lost messages and the pruning of
old records used to be Celery beat tasks in the same queue as user work; behind a backlog they
expired before a worker reached them (stuck runs were reaped ten minutes late). Here each job
runs on its own timer in one loop that no queue can delay, and that needs no broker, so it
keeps working while Redis is down. Every job is safe to run in two loops at once.

After the database was unreachable the reaper waits one lease period before judging leases:
workers could not renew them meanwhile, and must get the chance to first.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections, connection

from hotapi.db import is_connection_loss

log = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    interval: float
    work: Callable[[], object]
    after_outage: bool = True  # may run right after the database came back
    due: float = 0.0


def default_jobs() -> list[Job]:
    from environments.services import sessions_prune
    from events.streamlog import prune as prune_stream_log
    from files.services import uploads_expire
    from hotapi.api.idempotency import prune_idempotency_records
    from runs import maintenance
    from tasks.services import task_messages_prune

    return [
        Job("tick", settings.HOT_SCHEDULER_TICK_SECONDS, maintenance.tick),
        Job("sweep", settings.HOT_SWEEP_INTERVAL_SECONDS, maintenance.sweep),
        Job("reaper", settings.HOT_REAPER_INTERVAL_SECONDS, maintenance.reap, after_outage=False),
        Job(
            "prune-stream-log",
            3600,
            lambda: prune_stream_log(older_than_days=settings.HOT_STREAM_RETENTION_DAYS),
        ),
        Job("prune-idempotency-keys", 600, prune_idempotency_records),
        Job("prune-sessions", 3600, sessions_prune),
        Job("expire-file-uploads", 600, uploads_expire),
        Job("prune-task-messages", 3600, task_messages_prune),
    ]


class MaintenanceLoop:
    def __init__(self, jobs: list[Job] | None = None):
        self.jobs = jobs if jobs is not None else default_jobs()
        self.stopping = threading.Event()
        self.database_back_at: float | None = None  # set when the database returns
        self._database_lost = False

    def _ready(self, job: Job, now: float) -> bool:
        if job.after_outage or self.database_back_at is None:
            return True
        return now - self.database_back_at >= settings.HOT_RUN_LEASE_SECONDS

    def run_job(self, job: Job) -> None:
        close_old_connections()
        try:
            job.work()
        except Exception as exc:
            if is_connection_loss(exc):
                if not self._database_lost:
                    log.warning("Maintenance: the database is unreachable (%s)", exc)
                self._database_lost = True
                connection.close()
                return
            log.exception("Maintenance job %s failed", job.name)
            return
        if self._database_lost:
            log.warning("Maintenance: the database is back")
            self._database_lost = False
            self.database_back_at = time.monotonic()

    def run_once(self) -> None:
        now = time.monotonic()
        for job in self.jobs:
            if now >= job.due and self._ready(job, now):
                job.due = now + job.interval
                self.run_job(job)

    def run_forever(self) -> None:
        step = min(job.interval for job in self.jobs) / 4
        while not self.stopping.is_set():
            self.run_once()
            self.stopping.wait(max(0.05, min(step, 0.25)))
        connection.close()
