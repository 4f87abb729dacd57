"""A browser's session token, through the unmodified SDK, against a live server and a real
worker: it calls a function and streams its output without ever holding the API key."""

import time

import pytest
from hot import HotClient
from hot.errors import HotApiError, HotRunError

from environments.services import api_key_issue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def backend(hot_server, celery_worker_process, environment, deployed):
    """The web app's backend: holds the API key and mints sessions for its pages."""
    token = api_key_issue(environment=environment, name="backend").token
    with HotClient(token=token, base_url=hot_server.url, timeout=30) as client:
        yield client


def _browser(hot_server, backend, permissions):
    session = backend.sessions.create({"permissions": permissions, "expires_in": 300})
    return HotClient(token=session["token"], base_url=hot_server.url, timeout=30)


def test_session_calls_a_function_and_streams_its_output(hot_server, backend):
    permissions = {"event:hot:call": ["create"], "stream:*": ["read"]}
    with _browser(hot_server, backend, permissions) as browser:
        chunks = []
        result = browser.events.call_hot(
            "::app::main/chatty", [{"data": {"n": 3}}], timeout=30, on_chunk=chunks.append
        )
        assert result == {"done": True, "n": 3}
        assert "".join(chunks) == "hello world"
        with pytest.raises(HotApiError) as excinfo:  # only hot:call, not other events
            browser.events.publish({"event_type": "user.signup", "event_data": {}})
        assert excinfo.value.status_code == 403


def _run_of(backend, event_type: str, data) -> dict:
    """The run an event caused, once the worker has routed it."""
    event_id = backend.events.publish({"event_type": event_type, "event_data": data})["event_id"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        runs = backend.events.get_runs(event_id)["data"]
        if runs:
            return runs[0]
        time.sleep(0.1)
    raise AssertionError(f"no run for {event_type}")


def test_session_waits_on_runs_it_may_read(hot_server, backend):
    run = _run_of(backend, "fail.start", {})
    with _browser(hot_server, backend, {f"run:{run['run_id']}": ["read"]}) as browser:
        with pytest.raises(HotRunError):
            browser.runs.wait(run["run_id"], timeout=30)
        other_run = _run_of(backend, "user.signup", {"email": "x@example.com"})
        with pytest.raises(HotApiError) as excinfo:
            browser.runs.wait(other_run["run_id"], timeout=30)
        assert excinfo.value.status_code == 403
