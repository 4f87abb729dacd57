"""Helpers for the event/run/stream benchmarks: a flushed Redis database, a Celery worker
process, the one-off setup (``bench._events_setup``) and percentiles. Everything started or
created here is stopped or removed by the context managers, also on failure or Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import math
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench._common import REPO, ChildProcess

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


@contextlib.contextmanager
def redis_db(url: str = DEFAULT_REDIS_URL) -> Iterator[str]:
    """A Redis database for this run, emptied before and after (FLUSHDB)."""
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def events_setup(env: dict[str, str], *args: str, timeout: float = 300) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench._events_setup", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode != 0:
        raise RuntimeError(f"setup failed ({out.returncode}):\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class Worker(ChildProcess):
    """``celery -A bench._celery_app worker`` (the service's app plus ``bench.empty``) on the
    queue named by ``HOT_CELERY_QUEUE`` in ``env``; prefork, like ``runhot``."""

    stop_timeout = 20

    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 2):
        self.log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.log_path = log_path
        queue = env.get("HOT_CELERY_QUEUE", "celery")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bench._celery_app",
                "worker",
                "-Q",
                queue,
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{queue}@%h",
            ],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid


def run_client(cmd: list[str], env: dict[str, str], data_dir: Path, *processes, timeout: float):
    """Run a benchmark's client process; return the JSON of its last line. Fails (with the
    worker's log) if it fails or if any of ``processes`` (server, worker) died meanwhile."""
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        print((data_dir / "worker.log").read_text(errors="replace")[-3000:])
        raise RuntimeError(f"client failed:\n{out.stderr[-4000:]}")
    if any(process.process.poll() is not None for process in processes):
        raise RuntimeError("the server or the worker died during the run")
    return json.loads(out.stdout.strip().splitlines()[-1])


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def raise_nofile(wanted: int) -> int:
    """Raise this process's open-file soft limit (children inherit it); return the new one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def wait_until(predicate, timeout: float, message: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout}s waiting for {message}")
