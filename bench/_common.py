"""Helpers shared by the benchmarks: temp data dirs, a uvicorn child process, a throwaway
PostgreSQL database, the one-off Django setup (run in a child process) and machine facts.

Every process started here is stopped, and every directory or database created here is
removed, by the context managers below, also when a benchmark fails or is interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

REPO = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        nproc = str(os.cpu_count())
    return {
        "nproc": nproc.strip(),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def print_machine() -> None:
    info = machine_info()
    load = "?"
    with contextlib.suppress(OSError):
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(
        f"machine: nproc={info['nproc']}  cpu={info['cpu']}  python={info['python']}  "
        f"kernel={info['kernel']}  loadavg={load}"
    )


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so the context managers below still clean up."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def temp_dir(base: str | None = None, prefix: str = "hot-bench-") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def service_env(data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """Environment for the service's processes: isolated data dir, DEBUG off, a fixed key."""
    env = dict(os.environ)
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "HOT_S3_BUCKET"):
        env.pop(name, None)
    env.update(
        {
            "HOT_DATA_DIR": str(data_dir),
            "HOT_ENCRYPTION_KEY": secrets.token_hex(32),
            # DEBUG off refuses generated ones (every host must share them)
            "SECRET_KEY": secrets.token_hex(32),
            "HOT_API_KEY_PEPPER": secrets.token_hex(32),
            "DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(REPO),
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


@contextlib.contextmanager
def postgres_database(server_url: str = DEFAULT_POSTGRES_URL) -> Iterator[str]:
    """Create a throwaway database on the server of ``server_url``; yield its URL; drop it."""
    import psycopg

    name = f"hot_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server_url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_setup(env: dict[str, str], *args: str, timeout: float = 300) -> dict:
    """Run ``python -m bench._django_setup`` (migrate, API key, quota, project...) in a child
    process with ``env``; return the JSON it prints on its last line."""
    out = subprocess.run(
        [sys.executable, "-m", "bench._django_setup", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode != 0:
        raise RuntimeError(f"django setup failed ({out.returncode}):\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class ChildProcess:
    """A child process with a log file; stopped with SIGTERM (then SIGKILL) on exit."""

    process: subprocess.Popen
    log: typing.BinaryIO
    stop_timeout: float = 10

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class Server(ChildProcess):
    """One uvicorn process (no reload, no workers) on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path: Path, ready_timeout: float = 60):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "hotapi.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid
        try:
            self._wait_ready(ready_timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/status", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("uvicorn did not become ready")


def proc_status_kib(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` memory field (VmRSS, VmHWM...) in KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (all its threads) in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
