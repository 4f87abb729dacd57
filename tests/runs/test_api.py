"""The runs API over HTTP: lists, filters, detail, variables, stats, cancel, rerun, quota."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from events.services import EventSource, event_publish
from projects.models import Project
from runs import services
from runs.models import Run, RunStatus, RunVariable
from runs.routing import event_route
from tests.runs import deploy, hot_bundle

pytestmark = pytest.mark.django_db

SOURCE = """\
::app::main ns

on-signup
meta {on-event: "user.signup"}
fn (event) {
  {welcomed: event.data.email}
}

on-paid
meta {on-event: "order.paid"}
fn (event) {
  "paid"
}

add-one fn (n) {
  add(n, 1)
}
"""
HANDLERS = [("user.signup", "on-signup"), ("order.paid", "on-paid")]

SEED_FIELDS = {
    "run_id",
    "env_id",
    "stream_id",
    "build_id",
    "run_type",
    "status",
    "start_time",
    "stop_time",
    "origin_run_id",
    "event_id",
    "result",
    "project_id",
    "project_name",
}


@pytest.fixture
def build(api, project):
    return deploy(api, hot_bundle(SOURCE, HANDLERS))


def route(environment, event_type, data=None) -> Run:
    event = event_publish(
        environment=environment, event_type=event_type, event_data=data, source=EventSource.CLIENT
    )
    (run_id,) = event_route(event_id=event.id)
    return Run.objects.get(pk=run_id)


def succeed(run: Run, result=None, seconds: float = 0) -> Run:
    services.run_claim(run_id=run.pk, worker="w")
    if seconds:
        Run.objects.filter(pk=run.pk).update(start_time=timezone.now() - timedelta(seconds=seconds))
    assert services.run_finish(run_id=run.pk, status=RunStatus.SUCCEEDED, result=result)
    return Run.objects.get(pk=run.pk)


def fail(run: Run, error="boom") -> Run:
    services.run_claim(run_id=run.pk, worker="w")
    assert services.run_finish(run_id=run.pk, status=RunStatus.FAILED, error=error)
    return Run.objects.get(pk=run.pk)


@pytest.fixture
def mix(environment, build):
    """Three event runs of user.signup (succeeded, failed, queued) and a running order.paid
    run, created in that order."""
    ok = succeed(route(environment, "user.signup", {"email": "a@x.io"}), {"welcomed": "a@x.io"})
    bad = fail(route(environment, "user.signup", {"email": "b@x.io"}))
    waiting = route(environment, "user.signup", {"email": "c@x.io"})
    paid = route(environment, "order.paid", {})
    services.run_claim(run_id=paid.pk, worker="w")
    return {"ok": ok, "bad": bad, "waiting": waiting, "paid": paid}


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["run_id"] for row in response.json()["data"]]


# --- list ------------------------------------------------------------------------------------


def test_list_shape_and_order(api, environment, build, mix):
    response = api.get("/v1/runs")
    body = response.json()
    assert ids(response) == [str(mix[k].pk) for k in ("paid", "waiting", "bad", "ok")]
    assert body["pagination"] == {"total": 4, "limit": 20, "offset": 0, "has_more": False}
    row = body["data"][3]
    assert SEED_FIELDS <= set(row)
    ok = mix["ok"]
    assert row["run_id"] == str(ok.pk)
    assert row["env_id"] == str(environment.id)
    assert row["stream_id"] == str(ok.stream_id)
    assert row["build_id"] == str(build.id)
    assert row["run_type"] == "event" and row["status"] == "succeeded"
    assert row["start_time"].endswith("Z") and row["stop_time"].endswith("Z")
    assert row["origin_run_id"] is None
    assert row["event_id"] == str(ok.event_id)
    assert row["result"] == {"welcomed": "a@x.io"}
    assert row["project_id"] == str(build.project_id) and row["project_name"] == "billing"
    queued = body["data"][1]
    assert queued["status"] == "queued" and queued["start_time"] is None
    assert queued["stop_time"] is None and queued["result"] is None
    failed = body["data"][2]
    assert failed["result"]["$type"] == "::hot::run/Failure"
    assert failed["result"]["$val"]["msg"] == "boom"


def test_list_filters(api, environment, build, mix):
    assert ids(api.get("/v1/runs?status=succeeded")) == [str(mix["ok"].pk)]
    assert ids(api.get("/v1/runs?status=failed")) == [str(mix["bad"].pk)]
    assert ids(api.get("/v1/runs?status=running")) == [str(mix["paid"].pk)]
    assert ids(api.get("/v1/runs?status=queued")) == [str(mix["waiting"].pk)]
    assert ids(api.get("/v1/runs?status=cancelled")) == []
    assert len(ids(api.get("/v1/runs?type=event"))) == 4
    assert ids(api.get("/v1/runs?type=schedule")) == []
    assert ids(api.get("/v1/runs?event_type=order.paid")) == [str(mix["paid"].pk)]
    assert len(ids(api.get("/v1/runs?event_type=user.signup"))) == 3
    assert ids(api.get("/v1/runs?event_type=user.signup&status=failed")) == [str(mix["bad"].pk)]
    assert len(ids(api.get("/v1/runs?project=billing"))) == 4
    assert len(ids(api.get(f"/v1/runs?project={build.project_id}"))) == 4
    Project.objects.create(environment=environment, name="shipping")
    assert ids(api.get("/v1/runs?project=shipping")) == []
    assert api.get("/v1/runs?project=nowhere").status_code == 404


def test_call_runs_have_type_call(api, environment, build):
    run = route(environment, "hot:call", {"fn": "::app::main/add-one", "args": [1]})
    assert ids(api.get("/v1/runs?type=call")) == [str(run.pk)]
    assert api.get("/v1/runs?type=call").json()["data"][0]["run_type"] == "call"


@pytest.mark.parametrize("value", ["P7D", "PT12H", "P1M", "P1W2D", "all", "PT30M", "P1Y"])
def test_valid_time_ranges(api, build, mix, value):
    assert len(ids(api.get("/v1/runs", {"time_range": value}))) == 4


def test_time_range_excludes_older_runs(api, build, mix):
    Run.objects.filter(pk=mix["ok"].pk).update(created_at=timezone.now() - timedelta(days=10))
    Run.objects.filter(pk=mix["bad"].pk).update(created_at=timezone.now() - timedelta(hours=13))
    assert str(mix["ok"].pk) not in ids(api.get("/v1/runs?time_range=P7D"))
    assert len(ids(api.get("/v1/runs?time_range=P7D"))) == 3
    assert len(ids(api.get("/v1/runs?time_range=PT12H"))) == 2
    assert len(ids(api.get("/v1/runs?time_range=P1W2D"))) == 3
    assert len(ids(api.get("/v1/runs?time_range=P11D"))) == 4


def test_time_range_of_zero_is_empty_and_beyond_retention_is_everything(api, build, mix):
    # Both are plain durations (the schema's pattern): neither is an error.
    assert ids(api.get("/v1/runs?time_range=PT0S")) == []
    assert len(ids(api.get("/v1/runs?time_range=P9999D"))) == 4
    assert len(ids(api.get("/v1/runs?time_range=P999999999Y"))) == 4


@pytest.mark.parametrize(
    "value", ["P", "PT", "7D", "P-1D", "P1.5D", "P1234567890D", "garbage", "P1DT", "p7d", "P1D\n"]
)
def test_invalid_time_ranges_are_400(api, build, value):
    response = api.get("/v1/runs", {"time_range": value})
    assert response.status_code == 400, value
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert "time_range" in error["details"]


@pytest.mark.parametrize(("name", "value"), [("status", "done"), ("type", "cron")])
def test_invalid_status_or_type_is_400(api, build, name, value):
    response = api.get("/v1/runs", {name: value})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request" and name in error["details"]


def test_pagination(api, environment, build):
    created = [route(environment, "order.paid", {"n": n}) for n in range(5)]
    newest_first = [str(run.pk) for run in reversed(created)]
    first = api.get("/v1/runs?limit=2")
    assert ids(first) == newest_first[:2]
    assert first.json()["pagination"] == {"total": 5, "limit": 2, "offset": 0, "has_more": True}
    last = api.get("/v1/runs?limit=2&offset=4")
    assert ids(last) == newest_first[4:]
    assert last.json()["pagination"]["has_more"] is False
    assert ids(api.get("/v1/runs?limit=0")) == []
    assert api.get("/v1/runs?limit=-1").status_code == 400
    assert api.get("/v1/runs?limit=501").json()["pagination"]["limit"] == 500


# --- detail, variables, stats ----------------------------------------------------------------


def test_get_run(api, build, mix):
    response = api.get(f"/v1/runs/{mix['bad'].pk}")
    assert response.status_code == 200
    data = response.json()["data"]
    assert SEED_FIELDS <= set(data)
    assert data["status"] == "failed" and data["run_id"] == str(mix["bad"].pk)


@pytest.mark.parametrize("run_id", [str(uuid.uuid4()), "not-a-uuid", "1"])
def test_unknown_run_is_404(api, build, run_id):
    response = api.get(f"/v1/runs/{run_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_variables_are_paginated(api, build, mix):
    run = mix["ok"]
    now = timezone.now()
    RunVariable.objects.bulk_create(
        RunVariable(
            run=run,
            sequence=i,
            ns="::app::main",
            var=f"v{i}",
            value=i,
            start_time=now,
            stop_time=now,
        )
        for i in range(3)
    )
    page = api.get(f"/v1/runs/{run.pk}/vars?limit=2")
    body = page.json()
    assert page.status_code == 200
    assert [v["var"] for v in body["data"]] == ["v0", "v1"]
    assert body["pagination"] == {"total": 3, "limit": 2, "offset": 0, "has_more": True}
    first = body["data"][0]
    assert set(first) >= {"var_id", "run_id", "ns", "var", "value", "meta", "start_time"}
    assert first["run_id"] == str(run.pk) and first["value"] == 0 and first["ns"] == "::app::main"
    rest = api.get(f"/v1/runs/{run.pk}/vars?offset=2").json()["data"]
    assert [v["value"] for v in rest] == [2]
    assert api.get(f"/v1/runs/{mix['bad'].pk}/vars").json()["data"] == []
    assert api.get(f"/v1/runs/{uuid.uuid4()}/vars").status_code == 404


def test_stats(api, build, mix):
    services.run_cancel(run=mix["waiting"])
    data = api.get("/v1/runs/stats").json()["data"]
    assert {"total_runs", "running", "succeeded", "failed", "cancelled"} <= set(data)
    assert data["total_runs"] == 4
    assert (data["running"], data["succeeded"], data["failed"], data["cancelled"]) == (1, 1, 1, 1)


def test_stats_of_an_empty_environment(api):
    data = api.get("/v1/runs/stats").json()["data"]
    assert data["total_runs"] == 0 and data["running"] == 0 and data["failed"] == 0


# --- cancel and rerun ------------------------------------------------------------------------


def test_cancel_over_http(api, build, mix):
    queued = api.post(f"/v1/runs/{mix['waiting'].pk}/cancel")
    assert queued.status_code == 200
    assert queued.json()["data"]["status"] == "cancelled"
    assert queued.json()["data"]["stop_time"] is not None
    running = api.post(f"/v1/runs/{mix['paid'].pk}/cancel")
    assert running.status_code == 200
    assert running.json()["data"]["status"] == "running"  # stops at its next check
    assert Run.objects.get(pk=mix["paid"].pk).cancel_requested is True


@pytest.mark.parametrize("key", ["ok", "bad"])
def test_cancel_of_a_finished_run_is_409(api, build, mix, key):
    response = api.post(f"/v1/runs/{mix[key].pk}/cancel")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Run.objects.get(pk=mix[key].pk).status == mix[key].status


def test_cancel_of_a_cancelled_run_is_409(api, build, mix):
    assert api.post(f"/v1/runs/{mix['waiting'].pk}/cancel").status_code == 200
    assert api.post(f"/v1/runs/{mix['waiting'].pk}/cancel").status_code == 409


def test_rerun_over_http(api, build, mix):
    response = api.post(f"/v1/runs/{mix['bad'].pk}/rerun")
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["origin_run_id"] == str(mix["bad"].pk)
    assert data["run_id"] != str(mix["bad"].pk)
    assert data["status"] == "queued" and data["run_type"] == "event"
    assert data["event_id"] == str(mix["bad"].event_id)
    rerun = Run.objects.get(pk=data["run_id"])
    assert rerun.args == mix["bad"].args and rerun.function == mix["bad"].function
    assert api.get(f"/v1/runs/{data['run_id']}").status_code == 200


def test_unknown_run_cancel_and_rerun_are_404(api, build):
    assert api.post(f"/v1/runs/{uuid.uuid4()}/cancel").status_code == 404
    assert api.post(f"/v1/runs/{uuid.uuid4()}/rerun").status_code == 404


# --- cross-environment -----------------------------------------------------------------------


def test_other_environment_sees_nothing(api, other_api, build, mix):
    run_id = mix["waiting"].pk
    assert other_api.get("/v1/runs").json()["data"] == []
    assert other_api.get("/v1/runs/stats").json()["data"]["total_runs"] == 0
    for path in (f"/v1/runs/{run_id}", f"/v1/runs/{run_id}/vars"):
        response = other_api.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    for path in (f"/v1/runs/{run_id}/cancel", f"/v1/runs/{run_id}/rerun"):
        assert other_api.post(path).status_code == 404, path
    run = Run.objects.get(pk=run_id)
    assert run.status == RunStatus.QUEUED and not run.cancel_requested
    assert Run.objects.count() == 4  # no rerun was created


def test_unauthenticated_is_401(client, build):
    assert client.get("/v1/runs").status_code == 401


# --- quota -----------------------------------------------------------------------------------


def test_compute_used_percent_reflects_run_time(api, environment, build):
    assert api.get("/v1/env/quota").json()["data"]["compute_used_percent"] == 0
    environment.compute_seconds_per_month = 200
    environment.save()
    run = succeed(route(environment, "order.paid", {}), "paid", seconds=50)
    assert 50_000 <= run.duration_ms < 55_000
    percent = api.get("/v1/env/quota").json()["data"]["compute_used_percent"]
    assert percent in (25, 26, 27)
    succeed(route(environment, "order.paid", {}), "paid", seconds=100)
    assert api.get("/v1/env/quota").json()["data"]["compute_used_percent"] >= 75
