"""A throwaway PostgreSQL cluster (``initdb`` + ``pg_ctl`` on a free port, under a temporary
directory) that a test owns, so it can restart it and read its log.

PostgreSQL refuses to run as root; when the test runs as root the cluster is run as the
``postgres`` system user (installed with the server package). Durability is switched off (it
is thrown away), deadlocks and lock waits are logged.
"""

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from .live import free_port

SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "log_lock_waits": "on",
    "deadlock_timeout": "1s",
    "log_min_messages": "warning",
    "unix_socket_directories": "''",
}


def _bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed (CI installs postgresql in .ci/run)")
    return found


class PostgresServer:
    def __init__(self):
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="hot-pg-", dir="/tmp"))
        self.data = self.base / "data"
        self.log_path = self.base / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            os.chmod(self.base, 0o755)
            shutil.chown(self.base, "postgres", "postgres")
        self._run(
            _bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            for key, value in SETTINGS.items():
                conf.write(f"{key} = {value}\n")
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n")
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def _ctl(self, *args: str) -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log_path), "-w", *args)

    def start(self) -> None:
        self._ctl("start")
        self._wait_ready()

    def stop(self) -> None:
        """Fast shutdown: sessions are terminated, in-flight transactions roll back."""
        self._ctl("stop", "-m", "fast")

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.url(), connect_timeout=1):
                    return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not become ready")

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def destroy(self) -> None:
        try:
            self._ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.base, ignore_errors=True)
