"""A throwaway Redis server (``redis-server`` on a free port, nothing saved) that a test can
stop and start again, for broker and pub/sub outages."""

import shutil
import subprocess
import time

import pytest
import redis

from hotapi import redis_client as redis_client_module

from .live import free_port


class RedisServer:
    def __init__(self, log_path):
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (CI installs it in .ci/run)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.log_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """Stop it the hard way: whatever it held (queued messages) is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def redis_url(settings, tmp_path):
    """This process (and the servers a test starts) share one Redis: the configured one, else
    a private one."""
    if settings.REDIS_URL:
        yield settings.REDIS_URL
        return
    server = RedisServer(tmp_path / "redis.log")
    settings.REDIS_URL = server.url
    redis_client_module.redis_client.cache_clear()
    try:
        yield server.url
    finally:
        redis_client_module.redis_client.cache_clear()
        server.stop()
