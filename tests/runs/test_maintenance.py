"""The maintenance loop: jobs on their own timers (no queue can delay them), the reaper held
back after a database outage, and its work safe in two loops at once."""

import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from hotapi.maintenance import Job, MaintenanceLoop, default_jobs
from runs import services
from runs.models import Run, RunStatus
from tests.runs.test_retries import build, start  # noqa: F401  (fixture)


def test_the_default_jobs():
    assert [job.name for job in default_jobs()] == [
        "tick",
        "sweep",
        "reaper",
        "prune-stream-log",
        "prune-idempotency-keys",
        "prune-sessions",
        "expire-file-uploads",
        "prune-task-messages",
    ]


def test_each_job_runs_on_its_own_timer(monkeypatch):
    clock = {"now": 100.0}
    monkeypatch.setattr("hotapi.maintenance.time.monotonic", lambda: clock["now"])
    ran: list[str] = []
    loop = MaintenanceLoop(
        [Job("fast", 1, lambda: ran.append("fast")), Job("slow", 5, lambda: ran.append("slow"))]
    )
    for _ in range(6):
        loop.run_once()
        clock["now"] += 1
    assert ran.count("fast") == 6 and ran.count("slow") == 2


def test_the_reaper_waits_one_lease_after_the_database_returns(monkeypatch, settings):
    settings.HOT_RUN_LEASE_SECONDS = 10
    clock = {"now": 100.0}
    monkeypatch.setattr("hotapi.maintenance.time.monotonic", lambda: clock["now"])
    database_up = {"value": False}
    reaped: list[float] = []

    def tick():
        if not database_up["value"]:
            raise OperationalError("connection refused")

    def reap():
        tick()
        reaped.append(clock["now"])

    loop = MaintenanceLoop([Job("tick", 1, tick), Job("reaper", 1, reap, after_outage=False)])
    loop.run_once()  # the database is down: both fail
    database_up["value"] = True
    for _ in range(15):
        clock["now"] += 1
        loop.run_once()
    # back at 101: the reaper resumes only at 111, once workers could renew their leases
    assert reaped == [111.0, 112.0, 113.0, 114.0, 115.0]


def test_a_failing_job_does_not_stop_the_others(caplog):
    ran: list[str] = []

    def broken():
        raise RuntimeError("bug")

    MaintenanceLoop([Job("broken", 1, broken), Job("fine", 1, lambda: ran.append("x"))]).run_once()
    assert ran == ["x"]
    assert "Maintenance job broken failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_two_loops_start_each_due_retry_once(environment, build):  # noqa: F811
    failed = [start(environment, "flaky.start") for _ in range(6)]
    assert all(run.status == RunStatus.PENDING_RETRY for run in failed)
    due = max(run.next_retry_at for run in failed) + timedelta(seconds=1)
    barrier = threading.Barrier(2)
    started: list[int] = []

    def loop():
        try:
            barrier.wait(timeout=10)
            started.append(services.start_due_retries(now=due))
        finally:
            connection.close()

    threads = [threading.Thread(target=loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(started) == 6
    for run in failed:
        assert Run.objects.filter(origin_run=run, retry_attempt=1).count() == 1
    assert Run.objects.filter(status=RunStatus.PENDING_RETRY).count() == 0
    assert services.start_due_retries(now=timezone.now() + timedelta(hours=1)) == 0
