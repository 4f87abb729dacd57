"""``/v1/schedules``: every schedule of the environment (declared and dynamic) with its next
fire time and last run; pause, resume, trigger now, time zone and overlap policy."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from builds.models import Schedule
from runs import execution
from runs.models import Run, RunStatus, ScheduleFire
from runs.scheduler import scheduler_tick
from tests import bundles
from tests.runs import deploy, hot_bundle
from tests.runs.test_dynamic_schedules import SOURCE as DYNAMIC_SOURCE
from tests.runs.test_dynamic_schedules import plan

pytestmark = pytest.mark.django_db(transaction=True)

SOURCE = (
    DYNAMIC_SOURCE
    + """
nightly
meta {schedule: "0 2 * * *"}
fn (event) {
  {at: event.scheduled_at}
}
"""
)


@pytest.fixture
def build(api, project):
    return deploy(api, hot_bundle(SOURCE, schedules=[("0 2 * * *", "nightly")]))


@pytest.fixture
def declared(build):
    return Schedule.objects.get(build=build)


def listing(api, query: str = "") -> list[dict]:
    response = api.get(f"/v1/schedules{query}")
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def test_lists_declared_and_dynamic_schedules(api, environment, declared):
    dynamic = plan(environment, "in 10 minutes")
    rows = listing(api)
    assert [(row["kind"], row["function"]) for row in rows] == [
        ("declared", "::app::main/nightly"),
        ("dynamic", "::app::main/remind"),
    ]
    first, second = rows
    assert first["schedule_id"] == str(declared.pk) and first["cron"] == "0 2 * * *"
    assert first["state"] == "active" and first["timezone"] == "UTC"
    assert first["overlap"] == "allow" and first["project_name"] == "billing"
    assert first["next_fire_at"].endswith("T02:00:00Z") and first["last_run"] is None
    assert second["schedule_id"] == str(dynamic.pk) and second["run_at"] is not None
    assert second["args"] == [{"who": "ada"}] and second["build_id"] is None
    assert second["origin_run_id"] == str(dynamic.origin_run_id)
    assert [row["kind"] for row in listing(api, "?kind=dynamic")] == ["dynamic"]
    assert len(listing(api, "?project=billing&status=active")) == 2
    assert listing(api, "?status=cancelled") == []


def test_last_run_and_next_fire(api, declared):
    due = declared.next_fire_at
    assert scheduler_tick(now=due) == 1
    run = Run.objects.get(run_type="schedule")
    execution.execute_run(run_id=run.pk)
    row = api.get(f"/v1/schedules/{declared.pk}").json()["data"]
    assert row["last_run"]["run_id"] == str(run.pk)
    assert row["last_run"]["status"] == "succeeded"
    assert row["last_run"]["due_at"] == due.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert row["next_fire_at"] == (due + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_pause_and_resume(api, declared):
    due = declared.next_fire_at
    response = api.post(f"/v1/schedules/{declared.pk}/pause")
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["state"] == "paused"
    assert scheduler_tick(now=due + timedelta(days=3)) == 0
    assert [row["schedule_id"] for row in listing(api, "?status=paused")] == [str(declared.pk)]
    response = api.post(f"/v1/schedules/{declared.pk}/resume")
    assert response.status_code == 200 and response.json()["data"]["state"] == "active"
    declared.refresh_from_db()
    # Resumed from now on: the times passed while paused are not caught up.
    assert declared.next_fire_at == due
    assert scheduler_tick(now=due) == 1
    assert ScheduleFire.objects.count() == 1


def test_pause_carries_over_to_the_next_deploy(api, declared):
    api.post(f"/v1/schedules/{declared.pk}/pause")
    api.patch(f"/v1/schedules/{declared.pk}", {"timezone": "Asia/Tokyo"}, format="json")
    new_build = deploy(api, hot_bundle(SOURCE, schedules=[("0 2 * * *", "nightly")]))
    replacement = Schedule.objects.get(build=new_build)
    assert replacement.paused and replacement.timezone == "Asia/Tokyo"
    (row,) = [row for row in listing(api) if row["kind"] == "declared"]
    assert row["schedule_id"] == str(replacement.pk) and row["state"] == "paused"
    # The old build's row is no longer listed nor reachable.
    assert api.get(f"/v1/schedules/{declared.pk}").status_code == 404


def test_trigger_creates_a_run_now(api, declared):
    before = declared.next_fire_at
    api.post(f"/v1/schedules/{declared.pk}/pause")
    response = api.post(f"/v1/schedules/{declared.pk}/trigger")
    assert response.status_code == 201, response.json()
    run = Run.objects.get(pk=response.json()["data"]["run_id"])
    assert run.run_type == "schedule" and run.function == "::app::main/nightly"
    assert run.status == RunStatus.QUEUED
    fire = ScheduleFire.objects.get()
    assert fire.triggered and fire.run_id == run.pk
    declared.refresh_from_db()
    assert declared.next_fire_at == before and declared.paused
    assert execution.execute_run(run_id=run.pk) == RunStatus.SUCCEEDED


def test_trigger_a_dynamic_schedule_calls_it_with_its_arguments(api, environment, build):
    schedule = plan(environment, "every day at 9am", "grace")
    response = api.post(f"/v1/schedules/{schedule.pk}/trigger")
    assert response.status_code == 201
    run_id = response.json()["data"]["run_id"]
    assert execution.execute_run(run_id=run_id) == RunStatus.SUCCEEDED
    assert Run.objects.get(pk=run_id).result == {"reminded": "grace"}


def test_a_cancelled_schedule_cannot_be_triggered_or_resumed(api, environment, build):
    schedule = plan(environment, "every day at 9am")
    Schedule.objects.filter(pk=schedule.pk).update(status="cancelled", next_fire_at=None)
    for action in ("trigger", "pause", "resume"):
        response = api.post(f"/v1/schedules/{schedule.pk}/{action}")
        assert response.status_code == 409, (action, response.json())
        assert response.json()["error"]["code"] == "conflict"
        assert "cancelled" in response.json()["error"]["message"]
    assert listing(api, "?status=cancelled")[0]["state"] == "cancelled"


def test_time_zone_and_overlap(api, declared):
    response = api.patch(
        f"/v1/schedules/{declared.pk}",
        {"timezone": "America/New_York", "overlap": "skip"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    row = response.json()["data"]
    assert row["timezone"] == "America/New_York" and row["overlap"] == "skip"
    declared.refresh_from_db()
    assert declared.next_fire_at.hour in (6, 7)  # 02:00 in New York is 06:00 or 07:00 UTC


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Nowhere/Atlantis"}, "unknown time zone"),
        ({"timezone": "../../etc/passwd"}, "unknown time zone"),
        ({"timezone": ""}, "timezone"),
        ({"overlap": "sometimes"}, "overlap"),
        ({"timezone": 5}, "timezone"),
        ({"paused": True}, "Unknown field"),
        ([], "error"),
    ],
)
def test_bad_settings_get_the_error_envelope(api, declared, body, field):
    response = api.patch(f"/v1/schedules/{declared.pk}", body, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "bad_request" and error["request_id"]
    assert field in str(error), error


@pytest.mark.parametrize("query", ["?kind=weekly", "?status=sleeping", "?project=nope"])
def test_bad_filters(api, declared, query):
    response = api.get(f"/v1/schedules{query}")
    assert response.status_code in (400, 404)
    assert "error" in response.json()


def test_unknown_and_foreign_schedules_are_404(api, other_api, declared):
    for path in ("", "/pause", "/resume", "/trigger"):
        method = other_api.get if not path else other_api.post
        response = method(f"/v1/schedules/{declared.pk}{path}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert other_api.get("/v1/schedules").json()["data"] == []
    assert api.get("/v1/schedules/not-a-uuid").status_code == 404
    assert api.post(f"/v1/schedules/{declared.pk}x/trigger").status_code == 404
    assert not Run.objects.exists()


def test_the_admin_lists_pauses_and_triggers_schedules(admin_client, environment, declared):
    dynamic = plan(environment, "every day at 9am", "ada")
    page = admin_client.get("/admin/builds/schedule/").content.decode()
    assert "::app::main/nightly" in page and "::app::main/remind" in page
    assert admin_client.get(f"/admin/builds/schedule/{dynamic.pk}/change/").status_code == 200

    selection = {"action": "pause_schedules", "_selected_action": [str(declared.pk)]}
    assert admin_client.post("/admin/builds/schedule/", selection).status_code == 200  # confirm
    declared.refresh_from_db()
    assert not declared.paused
    response = admin_client.post("/admin/builds/schedule/", {**selection, "confirmed": "yes"})
    assert response.status_code == 302
    declared.refresh_from_db()
    assert declared.paused

    selection = {"action": "trigger_schedules", "_selected_action": [str(dynamic.pk)]}
    admin_client.post("/admin/builds/schedule/", {**selection, "confirmed": "yes"})
    run = Run.objects.get(run_type="schedule")
    assert run.function == "::app::main/remind" and run.args == [{"who": "ada"}]


def _zoned_bundle(zone_name: str) -> bytes:
    data, _ = bundles.make_bundle(
        {bundles.DEFAULT_SOURCE_PATH: SOURCE},
        [],
        [
            bundles.Sched(
                "0 2 * * *",
                "::app::main/nightly",
                meta={"schedule": "0 2 * * *", "timezone": zone_name},
            )
        ],
    )
    return data


def test_a_declared_schedule_may_name_its_time_zone(api, project):
    build = deploy(api, _zoned_bundle("Asia/Tokyo"))
    schedule = Schedule.objects.get(build=build)
    assert schedule.timezone == "Asia/Tokyo"
    assert schedule.next_fire_at.hour == 17  # 02:00 in Tokyo is 17:00 UTC the day before
    # The zone written in the code wins over one set through the API.
    api.patch(f"/v1/schedules/{schedule.pk}", {"timezone": "UTC"}, format="json")
    replacement = Schedule.objects.get(build=deploy(api, _zoned_bundle("Asia/Tokyo")))
    assert replacement.timezone == "Asia/Tokyo"


def test_an_unknown_time_zone_in_the_code_refuses_the_bundle(api, project):
    data = _zoned_bundle("Mars/Olympus")
    form = {"file": SimpleUploadedFile("b.zip", data), "hash": hashlib.sha256(data).hexdigest()}
    response = api.post("/v1/projects/billing/builds", form, format="multipart")
    assert response.status_code == 400, response.json()
    message = response.json()["error"]["message"]
    assert "::app::main/nightly" in message and "unknown time zone 'Mars/Olympus'" in message
