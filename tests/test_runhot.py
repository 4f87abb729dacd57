"""The one command: `manage.py runhot` migrates, prints a key, serves, and stops cleanly."""

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.live import BASE_DIR, free_port

pytestmark = pytest.mark.slow


def test_runhot_serves_with_a_printed_key_and_stops_on_sigterm(tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "HOT_STORAGE_DIR", "HOT_CELERY_QUEUE"}
    }
    env.update(
        HOT_DATA_DIR=str(tmp_path / "data"),
        HOT_PORT=str(port),
        DEBUG="1",
        PYTHONUNBUFFERED="1",
        HOT_CELERY_QUEUE="runhot-test",
    )
    log = open(tmp_path / "runhot.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runhot", "--concurrency", "1"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/status", timeout=1)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert status is not None and status.json()["status"] == "ok"
        assert "server" not in status.headers  # no version banner
        deadline = time.monotonic() + 30  # printed right after the server answers
        while "Hot API on" not in (tmp_path / "runhot.log").read_text():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        output = (tmp_path / "runhot.log").read_text()
        assert output.index("HOT_API_KEY=") < output.index("Hot API on")
        # Once, not once per process; and no notices an operator cannot act on.
        assert output.count("HOT_ENCRYPTION_KEY is not set") == 1
        assert "lifespan" not in output and "No hostname was supplied" not in output
        token = re.search(r"HOT_API_KEY=(hot_[0-9a-f]{32}_[0-9a-f]{64})", output).group(1)
        env_info = httpx.get(
            f"http://127.0.0.1:{port}/v1/env", headers={"Authorization": f"Bearer {token}"}
        ).json()["data"]
        assert env_info["name"] == "development"
        # One port, two servers: an SSE stream (uvicorn) sees an event published over REST
        # (forwarded to gunicorn's sync workers).
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.stream(
            "GET",
            f"http://127.0.0.1:{port}/v1/env/subscribe",
            headers={**auth, "Accept": "text/event-stream"},
            timeout=20,
        ) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            published = httpx.post(
                f"http://127.0.0.1:{port}/v1/events",
                json={"event_type": "runhot.check", "event_data": {"n": 1}},
                headers=auth,
            )
            assert published.status_code == 201, published.text
            assert "server" not in published.headers and "date" in published.headers
            event_id = published.json()["data"]["event_id"]
            received = ""
            for line in stream.iter_lines():
                received += line + "\n"
                if event_id in line:
                    break
        assert "event: event:created" in received
        assert (tmp_path / "data" / "encryption_key").exists()  # generated for local use
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            log.close()
    assert returncode == 0
    # The children went with it: nothing answers on the port any more.
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/status", timeout=1)
    # A second start keeps the existing key and prints no new one.
    second = subprocess.run(
        [sys.executable, "manage.py", "createapikey", "--env", "development"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.stdout.strip().startswith("hot_")


def test_runhot_refuses_to_start_without_a_key_when_debug_is_off(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"HOT_ENCRYPTION_KEY", "DEBUG"}}
    env.update(
        HOT_DATA_DIR=str(tmp_path / "data"),
        DEBUG="0",
        SECRET_KEY="s" * 50,
        HOT_API_KEY_PEPPER="p" * 50,
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "runhot"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "HOT_ENCRYPTION_KEY is required" in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "HOT_API_KEY_PEPPER"])
def test_servers_refuse_to_start_without_shared_secrets_when_debug_is_off(tmp_path, missing):
    # Generated per data directory, they differed between web hosts sharing one database, and
    # each host refused the API keys the other issued.
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "HOT_API_KEY_PEPPER"}}
    env.update(
        HOT_DATA_DIR=str(tmp_path / "data"),
        DEBUG="0",
        HOT_ENCRYPTION_KEY="5a" * 32,
        SECRET_KEY="s" * 20 + "-shared-secret-key-of-every-web-host-0123456789",
        HOT_API_KEY_PEPPER="p" * 20 + "-shared-pepper-of-every-web-host",
    )
    del env[missing]
    for command in (
        [sys.executable, "manage.py", "runhot", "--no-worker"],
        [sys.executable, "-c", "import hotapi.asgi"],
        [sys.executable, "-c", "import hotapi.wsgi"],
    ):
        result = subprocess.run(
            command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode != 0, command
        assert f"{missing} is required when DEBUG is off" in result.stderr, command


def test_runhot_on_a_taken_port_says_so_and_uses_up_no_key(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HOT_STORAGE_DIR"}}
        env.update(HOT_DATA_DIR=str(tmp_path / "data"), DEBUG="1", HOT_PORT=str(port))
        result = subprocess.run(
            [sys.executable, "manage.py", "runhot", "--no-worker"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode != 0
    assert "Is the port in use?" in result.stderr
    assert "HOT_API_KEY=" not in result.stdout  # the one showing of a key is not wasted
    assert "Traceback" not in result.stderr
