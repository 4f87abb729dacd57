"""Helpers shared by the benchmarks: temp data dirs, the web server child processes (uvicorn,
gunicorn, or runhot's pair of both), a throwaway
PostgreSQL database, the one-off Django setup (run in a child process) and machine facts.

Every process started here is stopped, and every directory or database created here is
removed, by the context managers below, also when a benchmark fails or is interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
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
            # Required with DEBUG off; one value per run, shared by setup and servers.
            "SECRET_KEY": secrets.token_urlsafe(50),
            "HOT_API_KEY_PEPPER": secrets.token_urlsafe(50),
            "DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(REPO),
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def bare_view_env(
    data_dir: Path, database_url: str | None, redis_url: str | None
) -> tuple[dict[str, str], Path]:
    """The service's environment under the bench settings (its URLs plus the bare view,
    ``bench.bench_settings``), and the file the bare view's body is to be written to."""
    body_path = data_dir / "bare_body.json"
    extra = {"REDIS_URL": redis_url} if redis_url else {}
    env = service_env(
        data_dir,
        database_url,
        DJANGO_SETTINGS_MODULE="bench.bench_settings",
        HOT_BENCH_BARE_BODY=str(body_path),
        **extra,
    )
    return env, body_path


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


def callgrind_total(child: list[str], out: Path, env: dict[str, str], what: str) -> int:
    """Instructions the ``child`` command executes under valgrind's callgrind (written to
    ``out``); ``what`` names the run in an error."""
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *child]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-3000:]}")
    match = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no instruction total in {out}")
    return int(match.group(1))


def python_json(args: list[str], env: dict[str, str], what: str, timeout: float = 300) -> dict:
    """Run ``python *args`` in a child process with ``env`` (from the repository's root);
    return the JSON it prints on its last line. ``what`` names it in an error."""
    out = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )
    if out.returncode != 0:
        raise RuntimeError(f"{what} failed ({out.returncode}):\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def django_setup(env: dict[str, str], *args: str, timeout: float = 300) -> dict:
    """Run ``python -m bench._django_setup`` (migrate, API key, quota, project...) in a child
    process with ``env``; return the JSON it prints on its last line."""
    return python_json(["-m", "bench._django_setup", *args], env, "django setup", timeout)


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


SERVER_KINDS = ("uvicorn", "gunicorn", "runhot", "granian")
GRANIAN_THREADS = 2  # blocking threads per granian worker: the most rps measured (bench/README.md)


class Server(ChildProcess):
    """The web tier on a free loopback port, as one of:

    - ``uvicorn``: one uvicorn process serving everything (ASGI);
    - ``gunicorn``: gunicorn's sync workers (WSGI; ``hotapi.gunicorn_conf``: one per core), the
      production server of the REST API;
    - ``runhot``: what ``manage.py runhot`` runs: uvicorn on the port, forwarding every
      non-stream request to gunicorn on a Unix socket;
    - ``granian``: granian's WSGI mode (a dev dependency, for comparison: not what the service
      runs), one worker per core with ``GRANIAN_THREADS`` threads each and Django's pool.

    ``pid`` and ``process`` are the process on the port."""

    def __init__(
        self, env: dict[str, str], log_path: Path, ready_timeout: float = 60, kind="uvicorn"
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.extra: list[subprocess.Popen] = []
        self.kind = kind
        if kind in ("gunicorn", "runhot"):
            socket_path = Path(tempfile.mkdtemp(prefix="hot-")) / "rest.sock"
            self._socket_dir = socket_path.parent
            bind = f"unix:{socket_path}" if kind == "runhot" else f"127.0.0.1:{self.port}"
            gunicorn = subprocess.Popen(
                [
                    *(sys.executable, "-m", "gunicorn", "-c", "python:hotapi.gunicorn_conf"),
                    *("--bind", bind, "hotapi.wsgi:application"),
                ],
                cwd=REPO,
                env=env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
            if kind == "gunicorn":
                self.process = gunicorn
            else:
                self.extra.append(gunicorn)
                env = {**env, "HOT_REST_UPSTREAM": f"unix:{socket_path}"}
        if kind == "granian":
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "granian", "--interface", "wsgi", "--no-ws"),
                    *("--host", "127.0.0.1", "--port", str(self.port)),
                    *("--workers", str(os.cpu_count() or 1)),
                    *("--blocking-threads", str(GRANIAN_THREADS), "--log-level", "warning"),
                    "hotapi.wsgi:application",
                ],
                cwd=REPO,
                env=env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
        elif kind != "gunicorn":
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "uvicorn", "hotapi.asgi:application"),
                    *("--host", "127.0.0.1", "--port", str(self.port)),
                    *("--no-access-log", "--log-level", "warning"),
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

    def stop(self) -> None:
        for process in self.extra:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        super().stop()
        for process in self.extra:
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if getattr(self, "_socket_dir", None):
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    def alive(self) -> bool:
        return all(p.poll() is None for p in (self.process, *self.extra))

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the web server exited; see {self.log.name}")
            try:
                if httpx.get(f"{self.url}/status", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the web server did not become ready")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def run_wrk(
    url: str,
    headers: list[str],
    connections: int,
    duration: float,
    threads: int = 1,
    script: Path | None = None,
) -> dict:
    """One ``wrk --latency`` run: rps, average and p99 latency, bad responses."""
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s"]
    cmd.append("--latency")
    if script is not None:
        cmd += ["-s", str(script)]
    for header in headers:
        cmd += ["-H", header]
    out = subprocess.run(
        [*cmd, url], capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    latency = re.search(r"Latency\s+(\S+)", out)
    # The latency distribution's line, not a "+/- Stdev" column such as "71.99%".
    p99 = re.search(r"^\s+99%\s+(\S+)\s*$", out, re.MULTILINE)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    requests = re.search(r"(\d+) requests in", out)
    return {
        "requests": int(requests.group(1)) if requests else 0,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "latency_avg_ms": wrk_ms(latency.group(1)) if latency else float("nan"),
        "latency_p99_ms": wrk_ms(p99.group(1)) if p99 else float("nan"),
    }


def loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


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


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds_of(pids) -> float:
    """CPU time of the processes ``pids`` that still run (an ended one counts nothing)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += proc_cpu_seconds(pid)
    return total


def data_service_pids() -> list[int]:
    """PostgreSQL's and Redis's processes on this machine (their backends included)."""
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().startswith(("postgres", "redis-server")):
                found.append(int(comm.parent.name))
    return found
