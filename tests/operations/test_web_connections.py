"""The REST tier's gunicorn workers keep their database connection from one request to the
next (``hotapi.db.keep_connections_across_requests``) and still drop a broken one."""

import os
import subprocess
import sys
import time

import httpx
import pytest
from django.core import signals
from django.db import close_old_connections, connection

from hotapi.db import keep_connections_across_requests, keep_usable_connections
from projects.models import Project
from tests.live import BASE_DIR, LiveServer, child_environment
from tests.pg_server import PostgresServer


@pytest.mark.django_db(transaction=True)
def test_the_connection_outlives_the_request_only_when_kept():
    Project.objects.count()
    opened = connection.connection
    try:
        keep_connections_across_requests()
        signals.request_finished.send(sender=None)
        signals.request_started.send(sender=None, environ={})
        keep_usable_connections()  # as gunicorn's pre_request hook does
        assert connection.connection is opened
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    # Django's default, for comparison: closed (or, with the pool, given back) after a request.
    signals.request_finished.send(sender=None)
    assert connection.connection is None


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=child_environment(**env),
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.stdout


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="runs in the PostgreSQL pass of the suite (it starts its own PostgreSQL)",
)
def test_gunicorn_serves_again_after_postgresql_restarts(tmp_path):
    postgres = PostgresServer()
    server = None
    try:
        env = {
            "DATABASE_URL": postgres.create_database("hot_web"),
            "HOT_WEB_WORKERS": "1",
            "HOT_DB_IDLE_CHECK_SECONDS": "1",
        }
        _manage(env, "migrate", "--no-input", "-v", "0")
        token = _manage(env, "createapikey", "--env", "web").strip().splitlines()[-1]
        server = LiveServer(tmp_path / "web.log", "gunicorn", **env)
        client = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert client.post("/v1/projects", json={"name": "kept"}).status_code == 201
        for _ in range(3):
            assert client.get("/v1/projects/kept").status_code == 200

        # Idle longer than the check interval: the dead connection is found before the
        # request and replaced; the request does not notice.
        postgres.stop()
        postgres.start()
        time.sleep(1.5)
        assert client.get("/v1/projects/kept").status_code == 200

        # Straight after a restart, a request on the dead connection may fail (with the error
        # envelope), which marks the connection; it is dropped, and the next request succeeds.
        postgres.stop()
        postgres.start()
        statuses = []
        for _ in range(3):
            response = client.get("/v1/projects/kept")
            statuses.append(response.status_code)
            if response.status_code == 200:
                break
            assert response.headers["content-type"].startswith("application/json")
            assert response.json()["error"]["code"]
        assert statuses[-1] == 200 and len(statuses) <= 2, statuses
    finally:
        if server is not None:
            server.stop()
        postgres.destroy()
