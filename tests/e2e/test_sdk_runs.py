"""The official SDK, unmodified, against a live server and a real worker."""

import pytest
from hot import HotClient
from hot.errors import HotApiError, HotRunError

from environments.services import api_key_issue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def sdk(hot_server, celery_worker_process, environment, deployed):
    token = api_key_issue(environment=environment, name="sdk").token
    with HotClient(token=token, base_url=hot_server.url, timeout=30) as client:
        yield client


def test_call_hot_returns_the_result_and_streams_chunks(sdk):
    chunks = []
    result = sdk.events.call_hot(
        "::app::main/chatty",
        [{"type": "x", "data": {"n": 5}}],
        timeout=30,
        on_chunk=chunks.append,
    )
    assert result == {"done": True, "n": 5}
    assert "".join(chunks) == "hello world"


def test_call_hot_of_a_plain_function(sdk):
    assert sdk.events.call_hot("::app::main/add-numbers", [2, 40], timeout=30) == 42


def test_call_hot_unknown_function_fails_fast(sdk):
    with pytest.raises(RuntimeError, match="No deployed build defines ::app::main/ghost"):
        sdk.events.call_hot("::app::main/ghost", [], timeout=30)


def test_call_hot_failure_raises_with_message(sdk):
    with pytest.raises(RuntimeError, match="recursion depth limit"):
        sdk.events.call_hot("::app::main/recurse", [{}], timeout=30)


def test_subscribe_with_event_sees_published_start_and_stop(sdk):
    seen = list(
        sdk.streams.subscribe_with_event(
            {"event_type": "user.signup", "event_data": {"email": "b@example.com"}}
        )
    )
    types = [event["type"] for event in seen]
    assert types[0] == "event:published"
    assert "run:start" in types and types[-1] == "run:stop"
    assert seen[-1]["run"]["result"] == {"welcomed": "b@example.com"}
    assert seen[-1]["run"]["event_id"] == seen[0]["event_id"]


def test_subscribe_with_event_without_reconnect(sdk):
    """A single connection yields everything on the stream; the caller decides when to stop."""
    seen = []
    for event in sdk.streams.subscribe_with_event(
        {"event_type": "chat.start", "event_data": {"n": 1}}, reconnect=False
    ):
        seen.append(event)
        if event["type"] == "run:stop":
            break
    types = [event["type"] for event in seen]
    assert types == ["event:published", "run:start", "stream:data", "stream:data", "run:stop"]
    assert [e["payload"] for e in seen if e["type"] == "stream:data"] == [
        {"text": "hello "},
        {"text": "world"},
    ]


def test_runs_wait_and_get_runs(sdk):
    event = sdk.events.publish({"event_type": "chat.start", "event_data": {"n": 2}})
    import time

    deadline = time.monotonic() + 20
    runs = []
    while not runs and time.monotonic() < deadline:
        runs = sdk.events.get_runs(event["event_id"])["data"]
        time.sleep(0.1)
    run = sdk.runs.wait(runs[0]["run_id"], timeout=30)
    assert run["status"] == "succeeded" and run["result"] == {"done": True, "n": 2}
    assert sdk.runs.get(run["run_id"])["status"] == "succeeded"
    assert sdk.runs.stats()["succeeded"] >= 1
    assert sdk.runs.list(status="succeeded")["pagination"]["total"] >= 1


def test_runs_wait_raises_on_failure(sdk):
    event = sdk.events.publish({"event_type": "fail.start", "event_data": {}})
    import time

    deadline = time.monotonic() + 20
    runs = []
    while not runs and time.monotonic() < deadline:
        runs = sdk.events.get_runs(event["event_id"])["data"]
        time.sleep(0.1)
    with pytest.raises(HotRunError):
        sdk.runs.wait(runs[0]["run_id"], timeout=30)


def test_reserved_event_types_are_forbidden(sdk):
    with pytest.raises(HotApiError) as excinfo:
        sdk.events.publish({"event_type": "hot:schedule", "event_data": {}})
    assert excinfo.value.status_code == 403 and excinfo.value.code == "forbidden"
