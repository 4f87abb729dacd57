"""The official SDK's ``tasks`` resource, unmodified, against a live server and a real worker:
tasks started by handlers, followed to completion over SSE, awaited by Hot code, cancelled,
and seen on their stream's subscription."""

import time

import pytest
from hot import HotClient
from hot.errors import HotApiError, HotTaskError

from environments.services import api_key_issue
from tests import bundles

from .conftest import deploy_source

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SOURCE = """\
::app::jobs ns

::task ::hot::task

crunch fn (args) {
  ::hot::stream/data("progress", {n: args.n})
  {answer: mul(args.n, 2)}
}

listen fn (args) {
  ::task/checkpoint({waiting: true})
  message ::task/receive()
  {message: message}
}

on-start
meta {on-event: "job.start"}
fn (event) {
  info ::task/start(`::app::jobs/${event.data.fn}`, {n: event.data.n})
  info.id
}

on-wait
meta {on-event: "job.wait"}
fn (event) {
  info ::task/start(::app::jobs/crunch, {n: 21})
  done ::task/await(info.id)
  {status: done.status, answer: done.result.answer, id: done.id}
}

on-cancel
meta {on-event: "job.cancel"}
fn (event) { ::task/cancel(event.data.id) }

on-send
meta {on-event: "job.send"}
fn (event) { ::task/send(event.data.id, event.data.message) }
"""
HANDLERS = [
    bundles.Handler("job.start", "::app::jobs/on-start"),
    bundles.Handler("job.wait", "::app::jobs/on-wait"),
    bundles.Handler("job.cancel", "::app::jobs/on-cancel"),
    bundles.Handler("job.send", "::app::jobs/on-send"),
]


@pytest.fixture
def sdk(hot_server, celery_worker_process, environment, project):
    deploy_source(project, SOURCE, handlers=HANDLERS)
    token = api_key_issue(environment=environment, name="sdk").token
    with HotClient(token=token, base_url=hot_server.url, timeout=60) as client:
        yield client


def run_result(sdk, event_type: str, data: dict):
    published = sdk.events.publish({"event_type": event_type, "event_data": data})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = sdk.events.get_runs(published["event_id"])["data"]
        if runs:
            return sdk.runs.wait(runs[0]["run_id"], timeout=60)["result"]
        time.sleep(0.2)
    raise AssertionError(f"no run for {event_type}")


def test_a_task_started_by_a_handler_followed_over_sse(sdk):
    task_id = run_result(sdk, "job.start", {"fn": "crunch", "n": 21})
    statuses = []
    for event in sdk.tasks.subscribe(task_id):
        assert event["type"] == "task:update" and event["task"]["task_id"] == task_id
        statuses.append(event["task"]["status"])
    assert statuses[-1] == "completed"
    assert set(statuses) <= {"queued", "running", "completed"}
    done = sdk.tasks.wait(task_id, timeout=30)
    assert done["status"] == "completed" and done["result"] == {"answer": 42}
    got = sdk.tasks.get(task_id)
    assert got == done and got["run_id"] and got["duration_ms"] is not None
    with pytest.raises(HotApiError) as missing:
        sdk.tasks.get("019a0000-0000-7000-8000-000000000000")
    assert missing.value.status_code == 404


def test_hot_code_awaits_a_task(sdk):
    result = run_result(sdk, "job.wait", {})
    assert result["status"] == "completed" and result["answer"] == 42
    assert sdk.tasks.get(result["id"])["status"] == "completed"


def test_a_cancelled_task(sdk):
    task_id = run_result(sdk, "job.start", {"fn": "listen", "n": 0})
    deadline = time.monotonic() + 30
    while sdk.tasks.get(task_id)["status"] != "running":
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.1)
    assert run_result(sdk, "job.cancel", {"id": task_id}) is True
    with pytest.raises(HotTaskError) as cancelled:
        sdk.tasks.wait(task_id, timeout=30)
    assert cancelled.value.task["status"] == "cancelled"
    assert run_result(sdk, "job.cancel", {"id": task_id}) is False


def test_a_task_receives_a_message_and_the_stream_shows_it(sdk):
    events = sdk.streams.subscribe_with_event(
        {"event_type": "job.start", "event_data": {"fn": "listen", "n": 0}}, reconnect=False
    )
    task_id = None
    seen = []
    for event in events:
        seen.append(event["type"])
        if event["type"] == "run:stop" and task_id is None:
            task_id = event["run"]["result"]
            assert run_result(sdk, "job.send", {"id": task_id, "message": "hello"}) is True
        if event["type"] == "task:update" and event["task"]["status"] == "completed":
            assert event["task"]["task_id"] == task_id
            assert event["task"]["result"] == {"message": "hello"}
            break
    assert "task:update" in seen
