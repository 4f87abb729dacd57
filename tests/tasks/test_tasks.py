"""Background tasks in-process: started by Hot code, executed as runs of type task, their
statuses, retries, time limits, inbox and checkpoints, and GET /v1/tasks/{id}. (Workers, SSE
and the SDK are in tests/e2e/test_sdk_tasks.py.)"""

import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from environments.services import session_create
from events.hub import ENTRY_FIELDS, entry_from_row
from events.models import StreamEntry
from events.services import EventSource, event_publish
from events.sse import env_chunk, stream_chunk
from runs import execution, services
from runs.models import Run, RunStatus, RunType
from runs.routing import event_route
from tasks.models import Task, TaskMessage
from tests.runs import deploy, hot_bundle

pytestmark = pytest.mark.django_db(transaction=True)

SOURCE = """\
::app::main ns

::task ::hot::task

crunch fn (args) {
  {n: args.n, total: mul(args.n, 2)}
}

boom fn (args) { fail("bad input", {n: args.n}) }

spin fn (n) { spin(add(n, 1)) }
forever fn (args) { spin(0) }

inbox fn (args) {
  before ::task/restore()
  ::task/checkpoint({seen: 0})
  first ::task/receive()
  second ::task/receive()
  ::task/checkpoint({seen: 2})
  {got: [first, second], before: before}
}

start
meta {on-event: "job.start"}
fn (event) {
  options event.data.options
  info ::task/start(`::app::main/${event.data.fn}`, {n: event.data.n}, options)
  {id: info.id, stream: info.stream.id, origin: info.origin-run.id, type: info.origin-run.type}
}

send-two
meta {on-event: "job.send"}
fn (event) {
  [::task/send(event.data.id, "one"), ::task/send(event.data.id, {two: 2})]
}

cancel
meta {on-event: "job.cancel"}
fn (event) { ::task/cancel(event.data.id) }

outside
meta {on-event: "job.outside"}
fn (event) { ::task/receive() }

bad-start
meta {on-event: "job.bad"}
fn (event) { ::task/start(event.data.fn, null) }
"""
HANDLERS = [
    ("job.start", "start"),
    ("job.send", "send-two"),
    ("job.cancel", "cancel"),
    ("job.outside", "outside"),
    ("job.bad", "bad-start"),
]


@pytest.fixture
def build(api, project):
    return deploy(api, hot_bundle(SOURCE, HANDLERS))


def handle(environment, event_type, data) -> Run:
    event = event_publish(
        environment=environment, event_type=event_type, event_data=data, source=EventSource.CLIENT
    )
    (run_id,) = event_route(event_id=event.pk)
    execution.execute_run(run_id=run_id)
    return Run.objects.get(pk=run_id)


def start(environment, fn, n=1, options=None) -> tuple[Run, Task]:
    run = handle(environment, "job.start", {"fn": fn, "n": n, "options": options})
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run, Task.objects.get(pk=run.result["id"])


def execute(task: Task) -> Task:
    execution.execute_run(run_id=task.run_id)
    task.refresh_from_db()
    return task


def updates(task: Task) -> list[str]:
    entries = StreamEntry.objects.filter(kind="task:update", stream_id=task.stream_id)
    return [
        entry.payload["task"]["status"]
        for entry in entries.order_by("id")
        if entry.payload["task"]["task_id"] == str(task.pk)
    ]


def test_a_task_runs_as_a_run_of_its_own_and_completes(api, environment, build):
    origin, task = start(environment, "crunch", n=21)
    assert task.status == "queued" and task.function_name == "::app::main/crunch"
    assert origin.result["stream"] == str(origin.stream_id) == str(task.stream_id)
    assert origin.result["origin"] == str(origin.pk) and origin.result["type"] == "event"
    run = task.run
    assert run.run_type == RunType.TASK and run.origin_run_id == origin.pk
    assert run.args == [{"n": 21}] and run.build_id == origin.build_id

    task = execute(task)
    assert task.status == "completed" and task.result == {"n": 21, "total": 42}
    assert task.duration_ms is not None and task.stop_time is not None
    assert updates(task) == ["queued", "running", "completed"]

    got = api.get(f"/v1/tasks/{task.pk}").json()["data"]
    assert got["status"] == "completed" and got["result"] == {"n": 21, "total": 42}
    assert got["run_id"] == str(run.pk) and got["origin_run_id"] == str(origin.pk)
    assert got["task_type"] == "code" and got["timeout_ms"] == 30 * 60 * 1000
    assert set(got) >= {
        "task_id",
        "env_id",
        "stream_id",
        "build_id",
        "function_name",
        "start_time",
        "stop_time",
        "duration_ms",
        "retry_attempt",
        "next_retry_at",
        "created_at",
    }
    # Task runs are not in the run list nor the stats, unless asked for.
    listed = [row["run_id"] for row in api.get("/v1/runs").json()["data"]]
    assert str(run.pk) not in listed and str(origin.pk) in listed
    assert [r["run_id"] for r in api.get("/v1/runs?type=task").json()["data"]] == [str(run.pk)]
    assert api.get("/v1/runs/stats").json()["data"]["total_runs"] == 1
    assert services.run_counters_reconcile(environment_id=environment.pk) == {}


def test_failures_timeouts_and_retries(api, environment, build, settings):
    _, failing = start(environment, "boom", n=3)
    failing = execute(failing)
    assert failing.status == "failed" and failing.result["$val"]["msg"] == "bad input"

    _, slow = start(environment, "forever", options={"timeout": 1000})
    assert slow.timeout_ms == 1000
    slow = execute(slow)
    assert slow.status == "timed_out" and "time limit exceeded" in slow.error

    _, retried = start(environment, "boom", options={"retry": {"attempts": 1, "delay": 100}})
    retried = execute(retried)
    assert retried.status == "queued" and retried.next_retry_at is not None
    first_run = retried.run_id
    services.start_due_retries(now=timezone.now() + timezone.timedelta(seconds=1))
    next_run = Run.objects.get(origin_run_id=first_run)
    execution.execute_run(run_id=next_run.pk)
    retried.refresh_from_db()
    assert retried.status == "failed" and retried.retry_attempt == 1
    assert retried.run_id == next_run.pk
    assert updates(retried) == ["queued", "running", "queued", "running", "failed"]


def test_inbox_and_checkpoint(environment, build):
    _, task = start(environment, "inbox")
    sent = handle(environment, "job.send", {"id": str(task.pk)})
    assert sent.result == [True, True]
    assert TaskMessage.objects.filter(task=task).count() == 2
    task = execute(task)
    assert task.status == "completed"
    assert task.result == {"got": ["one", {"two": 2}], "before": None}
    assert task.checkpoint == {"seen": 2}
    # A finished task takes no more messages.
    assert handle(environment, "job.send", {"id": str(task.pk)}).result == [False, False]


def test_cancel_a_queued_task(environment, build):
    _, task = start(environment, "crunch")
    cancelled = handle(environment, "job.cancel", {"id": str(task.pk)})
    assert cancelled.result is True
    task.refresh_from_db()
    assert task.status == "cancelled" and task.run.status == RunStatus.CANCELLED
    assert handle(environment, "job.cancel", {"id": str(task.pk)}).result is False


def test_errors_of_task_functions(environment, build):
    outside = handle(environment, "job.outside", {})
    assert outside.status == RunStatus.FAILED
    assert "can only be called inside a task" in outside.error
    unknown = handle(environment, "job.bad", {"fn": "::app::main/nothing"})
    assert "unknown function ::app::main/nothing" in unknown.error
    container = handle(
        environment, "job.start", {"fn": "crunch", "n": 1, "options": {"type": "container"}}
    )
    assert "task type 'container' is not supported" in container.error
    missing = handle(environment, "job.cancel", {"id": "019a0000-0000-7000-8000-000000000000"})
    assert "task not found" in missing.error
    assert Task.objects.count() == 0


def test_tasks_of_other_environments_are_404(api, other_api, environment, build):
    _, task = start(environment, "crunch")
    assert other_api.get(f"/v1/tasks/{task.pk}").status_code == 404
    assert api.get("/v1/tasks/not-a-task").status_code == 404


def test_reading_a_task_needs_read_on_its_stream(api, environment, build):
    _, task = start(environment, "crunch")

    def client(permissions):
        token = session_create(api_key=api.api_key, permissions=permissions).token
        session = APIClient()
        session.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return session

    follower = client({f"stream:{task.stream_id}": ["read"]})
    assert follower.get(f"/v1/tasks/{task.pk}").status_code == 200
    assert client({"stream:other": ["read"]}).get(f"/v1/tasks/{task.pk}").status_code == 403
    unknown = follower.get("/v1/tasks/019a0000-0000-7000-8000-000000000000")
    assert unknown.status_code == 403  # refused like any resource it does not hold


def test_admin_shows_tasks_and_cancels_them(admin_client, environment, build, storage_dir):
    _, task = start(environment, "crunch", n=4)
    listing = admin_client.get("/admin/tasks/task/").content.decode()
    assert "::app::main/crunch" in listing
    page = admin_client.get(f"/admin/tasks/task/{task.pk}/change/").content.decode()
    assert "executing run" in page and "started by" in page and "&quot;n&quot;: 4" in page
    selection = {"action": "cancel_tasks", "_selected_action": [str(task.pk)]}
    assert (
        "Cancel selected tasks?"
        in admin_client.post("/admin/tasks/task/", selection).content.decode()
    )
    admin_client.post("/admin/tasks/task/", {**selection, "confirmed": "yes"})
    task.refresh_from_db()
    assert task.status == "cancelled"
    for url in ("/admin/files/file/", "/admin/files/fileupload/", "/admin/files/blob/"):
        assert admin_client.get(url).status_code == 200


def test_a_task_whose_worker_died_is_reaped_like_a_run(environment, build):
    _, task = start(environment, "crunch")
    assert services.run_claim(run_id=task.run_id, worker="gone:1") is not None
    Run.objects.filter(pk=task.run_id).update(lease_expires_at=timezone.now())
    assert services.reap_expired_leases() == 1
    task.refresh_from_db()
    assert task.status == "failed" and "stopped responding" in task.error
    assert updates(task) == ["queued", "running", "failed"]


def test_task_updates_on_stream_and_environment_subscriptions(environment, build):
    _, task = start(environment, "boom", n=1)
    task = execute(task)
    rows = StreamEntry.objects.filter(kind="task:update").order_by("id")
    entries = [entry_from_row(row) for row in rows.values_list(*ENTRY_FIELDS)]
    stream_frames = [stream_chunk(entry).decode() for entry in entries]
    assert all(
        frame.startswith("id: ") and "event: task:update" in frame for frame in stream_frames
    )
    assert '"status":"failed"' in stream_frames[-1]
    env_frames = [chunk.decode() for entry in entries if (chunk := env_chunk(entry))]
    assert ["task:started" in env_frames[0], "task:complete" in env_frames[1]] == [True, True]
    complete = json.loads(env_frames[1].split("data: ", 1)[1])
    assert complete["status"] == "failed" and "bad input" in complete["error"]
    assert complete["task_id"] == str(task.pk) and complete["duration_ms"] is not None
