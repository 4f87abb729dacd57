"""The REST tier's gunicorn workers keep their database connection from one request to the
next (``hotapi.db.keep_connections_across_requests``) and drop one the server ended before it
fails a request (``hotapi.db.keep_usable_connections``)."""

import os
import subprocess
import sys
import time

import httpx
import psycopg
import pytest
from django.core import signals
from django.db import close_old_connections, connection

from hotapi import gunicorn_conf
from hotapi.db import (
    keep_connections_across_requests,
    keep_usable_connections,
    server_hung_up,
)
from projects.models import Project
from tests import live
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


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced_before_it_is_used():
    Project.objects.count()
    assert not server_hung_up(connection)
    if connection.vendor != "postgresql":
        return  # SQLite has no server to hang up
    pid = connection.connection.info.backend_pid
    with psycopg.connect(live.test_database_url(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while not server_hung_up(connection) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server_hung_up(connection)
    keep_usable_connections()
    assert Project.objects.count() == 0  # on a new connection, no error
    assert connection.connection.info.backend_pid != pid


def test_only_a_starting_gunicorn_turns_the_pool_off(monkeypatch):
    """The REST workers run without the pool, set by gunicorn's master as it starts; importing
    the configuration (a test reads its hooks) must not pass the setting on to the workers and
    servers the importing process starts later."""
    environment = {name: value for name, value in os.environ.items() if name != "HOT_DB_POOL"}
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, hotapi.gunicorn_conf; print(os.environ.get('HOT_DB_POOL'))",
        ],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "None"
    monkeypatch.setenv("HOT_DB_POOL", "unset below")  # so the test's changes are undone
    monkeypatch.delenv("HOT_DB_POOL")
    gunicorn_conf.on_starting(None)
    assert os.environ["HOT_DB_POOL"] == "0"
    monkeypatch.setenv("HOT_DB_POOL", "1")  # an operator's explicit choice stands
    gunicorn_conf.on_starting(None)
    assert os.environ["HOT_DB_POOL"] == "1"


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
            "HOT_DB_IDLE_CHECK_SECONDS": "60",  # only the hang-up check can save a request
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

        # After a pause, and straight after a restart (below): the server told the idle
        # connection it was ending it, so it is replaced before the request, without a round
        # trip to find out.
        postgres.stop()
        postgres.start()
        time.sleep(1.5)
        assert client.get("/v1/projects/kept").status_code == 200

        postgres.stop()
        postgres.start()
        assert client.get("/v1/projects/kept").status_code == 200
        assert b" 500 " not in (tmp_path / "web.log").read_bytes()
    finally:
        if server is not None:
            server.stop()
        postgres.destroy()
