"""A real Celery worker process for tests whose behaviour crosses processes.

The worker consumes a queue private to this test session, so it never picks up messages of a
development server sharing the broker (filesystem folder or Redis).
"""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.db import close_old_connections

from hotapi.celery import app as celery_app

from .live import BASE_DIR, child_environment


class ChildProcess:
    """A child process of a test with its log file."""

    process: subprocess.Popen
    log_path = None
    log = None

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class WorkerProcess(ChildProcess):
    def __init__(
        self, queue: str, log_path, *, pool: str = "prefork", concurrency: int = 2, **env: str
    ):
        self.queue = queue
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "hotapi",
                "worker",
                "-Q",
                queue,
                "--pool",
                pool,
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{queue}@%h",
            ],
            cwd=BASE_DIR,
            env=child_environment(**env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so kill() reaches the pool too
        )

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once: nothing gets to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def celery_queue():
    """A queue private to this test session, for this process and every child it starts."""
    queue = f"hot-test-{uuid.uuid4().hex[:10]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    os.environ["HOT_CELERY_QUEUE"] = queue
    yield queue
    os.environ.pop("HOT_CELERY_QUEUE", None)
    celery_app.conf.task_default_queue = previous


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup, django_db_blocker, tmp_path_factory, storage_dir, celery_queue
):
    with django_db_blocker.unblock():
        worker = WorkerProcess(celery_queue, tmp_path_factory.mktemp("worker") / "worker.log")
    yield worker
    worker.stop()


class MaintenanceProcess(ChildProcess):
    """``manage.py runmaintenance`` in a child process, with the test database."""

    def __init__(self, log_path, **env: str):
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runmaintenance"],
            cwd=BASE_DIR,
            env=child_environment(**env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def maintenance_process(django_db_setup, django_db_blocker, tmp_path, storage_dir, celery_queue):
    """The maintenance loop for one test (its sweep and reaper would disturb tests that drive
    them by hand, so it is never shared)."""
    with django_db_blocker.unblock():
        loop = MaintenanceProcess(tmp_path / "maintenance.log")
    yield loop
    loop.stop()


def wait_for(predicate, timeout: float = 30, interval: float = 0.1, message: str = "condition"):
    """Poll ``predicate`` (reading fresh rows each time) until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        close_old_connections()
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
