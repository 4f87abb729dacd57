"""A live Hot API server (uvicorn in a child process) for SDK and streaming tests.

The child process uses the test database, so tests that talk to it must commit their data
(``transactional_db``). It inherits this process's environment, so it shares the data dir.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
TEST_ENCRYPTION_KEY = "5a" * 32


def require_tool(command: str, package: str) -> None:
    """A test needing a system tool: in CI (``CI`` set, as ``.ci/run`` runs) a missing tool
    fails the run; on a developer's machine the test is skipped with what to install."""
    if shutil.which(command):
        return
    message = f"{command} is not installed (install {package})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports of the loopback interface. They are bound together, since
    a port closed after one call can be the answer to the next."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def test_database_url() -> str:
    """DATABASE_URL of the database pytest-django created for this session."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def connect_test_database() -> psycopg.Connection:
    """A psycopg connection of its own to the test database (PostgreSQL), beside Django's."""
    return psycopg.connect(test_database_url().replace("postgres://", "postgresql://", 1))


def child_environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": test_database_url(),
            "HOT_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
            # Required with DEBUG off; the same values as this process, which issues the keys.
            "SECRET_KEY": settings.SECRET_KEY,
            "HOT_API_KEY_PEPPER": settings.HOT_API_KEY_PEPPER,
            "DJANGO_SETTINGS_MODULE": "hotapi.settings",
            "DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
            "HOT_SSE_STREAM_SECONDS": "20",  # a test never waits the full 300 s
        }
    )
    env.update(extra)
    return env


def server_command(kind: str, port: int) -> list[str]:
    """The ASGI server (uvicorn: every endpoint, SSE included) or the REST API's WSGI server
    (gunicorn with the project's settings, as in production)."""
    if kind == "gunicorn":
        return [
            *(sys.executable, "-m", "gunicorn", "-c", "python:hotapi.gunicorn_conf"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "1", "hotapi.wsgi:application"),
        ]
    return [
        *(sys.executable, "-m", "uvicorn", "hotapi.asgi:application"),
        *("--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--no-server-header"),
    ]


class LiveServer:
    def __init__(self, log_path: Path, server: str = "uvicorn", **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            server_command(server, self.port),
            cwd=BASE_DIR,
            env=child_environment(**env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"live server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/status", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("live server did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def hot_server(django_db_setup, django_db_blocker, tmp_path_factory, storage_dir, celery_queue):
    with django_db_blocker.unblock():
        server = LiveServer(tmp_path_factory.mktemp("live") / "server.log")
    yield server
    server.stop()


@pytest.fixture
def make_hot_server(django_db_setup, django_db_blocker, tmp_path, storage_dir, celery_queue):
    """Start extra live servers with their own settings (environment variables)."""
    servers = []

    def start(server: str = "uvicorn", **env: str) -> LiveServer:
        with django_db_blocker.unblock():
            live = LiveServer(tmp_path / f"server-{len(servers)}.log", server, **env)
        servers.append(live)
        return live

    yield start
    for server in servers:
        server.stop()
