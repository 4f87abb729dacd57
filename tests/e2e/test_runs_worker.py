"""End to end through a real Celery worker: publish, route, execute, observe."""

import pytest

from runs.models import Run
from tests.worker import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _publish(api, event_type, data):
    response = api.post("/v1/events", {"event_type": event_type, "event_data": data}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def _finished_runs(api, event_id, count=1):
    def ready():
        runs = api.get(f"/v1/events/{event_id}/runs").json()["data"]
        done = [run for run in runs if run["status"] in ("succeeded", "failed", "cancelled")]
        return done if len(done) >= count else None

    return wait_for(ready, timeout=30, message=f"runs of {event_id}")


def test_publish_runs_handler_with_result_vars_and_stream(api, deployed, celery_worker_process):
    event = _publish(api, "chat.start", {"n": 3})
    (run,) = _finished_runs(api, event["event_id"])
    assert run["status"] == "succeeded", celery_worker_process.output()[-3000:]
    assert run["result"] == {"done": True, "n": 3}
    assert run["run_type"] == "event" and run["event_id"] == event["event_id"]
    assert run["stream_id"] == event["stream_id"] and run["project_name"] == "billing"
    variables = api.get(f"/v1/runs/{run['run_id']}/vars").json()
    token = next(v for v in variables["data"] if v["var"] == "token")
    assert token["value"] == "<secret>" and token["ns"] == "::app::main"
    assert "tok-very-secret" not in str(variables)
    from events.models import StreamEntry

    kinds = list(
        StreamEntry.objects.filter(stream_id=event["stream_id"]).values_list("kind", flat=True)
    )
    assert kinds.count("stream:data") == 2
    assert kinds.index("run:start") < kinds.index("stream:data") < kinds.index("run:stop")


def test_send_chains_runs_with_origin(api, deployed, celery_worker_process):
    event = _publish(api, "user.signup", {"email": "ada@example.com"})
    (run,) = _finished_runs(api, event["event_id"])
    assert run["result"] == {"welcomed": "ada@example.com"}

    def chained():
        return Run.objects.filter(origin_run_id=run["run_id"], status="succeeded").first()

    child = wait_for(chained, message="the chained run")
    assert child.result == {"sent": "ada@example.com"}
    assert child.event.event_type == "email.welcome"


def test_runaway_code_fails_and_worker_keeps_serving(api, deployed, celery_worker_process):
    deep = _publish(api, "deep.start", {})
    (run,) = _finished_runs(api, deep["event_id"])
    assert run["status"] == "failed"
    assert "recursion depth limit" in run["result"]["$val"]["msg"]
    after = _publish(api, "chat.start", {"n": 1})
    assert _finished_runs(api, after["event_id"])[0]["status"] == "succeeded"


def test_failure_result_shape(api, deployed, celery_worker_process):
    event = _publish(api, "fail.start", {})
    (run,) = _finished_runs(api, event["event_id"])
    assert run["status"] == "failed"
    assert run["result"]["$type"] == "::hot::run/Failure"
    assert run["result"]["$val"]["msg"] == "nope"


def test_cancel_a_running_run(api, deployed, celery_worker_process):
    event = _publish(api, "slow.start", {})

    def running():
        runs = api.get(f"/v1/events/{event['event_id']}/runs").json()["data"]
        return runs[0] if runs and runs[0]["status"] == "running" else None

    run = wait_for(running, message="the run to start")
    response = api.post(f"/v1/runs/{run['run_id']}/cancel")
    assert response.status_code == 200
    (done,) = _finished_runs(api, event["event_id"])
    assert done["status"] == "cancelled"
    stats = api.get("/v1/runs/stats").json()["data"]
    assert stats["cancelled"] == 1 and stats["running"] == 0


def test_rerun(api, deployed, celery_worker_process):
    event = _publish(api, "chat.start", {"n": 9})
    (run,) = _finished_runs(api, event["event_id"])
    rerun = api.post(f"/v1/runs/{run['run_id']}/rerun").json()["data"]
    assert rerun["origin_run_id"] == run["run_id"] and rerun["status"] == "queued"
    done = wait_for(
        lambda: api.get(f"/v1/runs/{rerun['run_id']}").json()["data"]["status"] == "succeeded"
    )
    assert done
    assert api.get(f"/v1/runs/{rerun['run_id']}").json()["data"]["result"] == {
        "done": True,
        "n": 9,
    }


def test_runs_record_the_prefork_child_that_ran_them(api, deployed, celery_worker_process):
    # The name was computed at import, before the fork: every child reported its parent's pid.
    event = _publish(api, "chat.start", {"n": 1})
    (run,) = _finished_runs(api, event["event_id"])
    worker = Run.objects.get(pk=run["run_id"]).worker
    host, pid = worker.rsplit(":", 1)
    assert host and int(pid) != celery_worker_process.process.pid
