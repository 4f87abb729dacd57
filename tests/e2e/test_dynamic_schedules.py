"""Dynamic schedules end to end: a handler run by a real worker sends ``hot:schedule:new``;
the maintenance loop fires the schedule; the worker runs it. Pause, resume and trigger go
through a live server."""

import time

import httpx
import pytest

from builds.models import Schedule
from environments.services import api_key_issue
from events.services import EventSource, event_publish
from runs.models import Run, ScheduleFire
from tests import bundles
from tests.e2e.conftest import deploy_source
from tests.worker import MaintenanceProcess, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SOURCE = """\
::app::main ns

on-order
meta {on-event: "order.placed"}
fn (event) {
  sent send("hot:schedule:new", {
    fn: "::app::main/follow-up",
    args: [{order: event.data.order}],
    schedule: event.data.when
  })
  sent.event.id
}

follow-up
fn (data: Map): Map {
  {followed_up: data.order}
}
"""
HANDLERS = [bundles.Handler("order.placed", "::app::main/on-order")]


@pytest.fixture
def client(hot_server, celery_worker_process, maintenance_process, environment, project):
    deploy_source(project, SOURCE, HANDLERS)
    token = api_key_issue(environment=environment, name="schedules").token
    with httpx.Client(
        base_url=hot_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        yield http


def place_order(environment, order: str, when: str) -> Schedule:
    event = event_publish(
        environment=environment,
        event_type="order.placed",
        event_data={"order": order, "when": when},
        source=EventSource.CLIENT,
    )
    handler = wait_for(
        lambda: Run.objects.filter(event=event, status="succeeded").first(),
        message="the handler run",
    )
    return Schedule.objects.get(pk=handler.result)


def follow_ups(schedule: Schedule) -> list[Run]:
    return list(
        Run.objects.filter(schedulefire__schedule=schedule, status="succeeded").order_by(
            "created_at"
        )
    )


def test_a_handler_schedules_a_call_that_fires_once(client, environment):
    schedule = place_order(environment, "A-1", "in 2 seconds")
    (run,) = wait_for(lambda: follow_ups(schedule), message="the scheduled run")
    assert run.function == "::app::main/follow-up" and run.result == {"followed_up": "A-1"}
    row = client.get(f"/v1/schedules/{schedule.pk}").json()["data"]
    assert row["state"] == "completed" and row["last_run"]["run_id"] == str(run.pk)
    assert ScheduleFire.objects.filter(schedule=schedule).count() == 1


def test_pause_resume_and_trigger_a_recurring_schedule(client, environment):
    schedule = place_order(environment, "B-2", "* * * * * *")  # every second
    wait_for(lambda: len(follow_ups(schedule)) >= 2, message="two scheduled runs")

    response = client.post(f"/v1/schedules/{schedule.pk}/pause")
    assert response.status_code == 200 and response.json()["data"]["state"] == "paused"
    paused_at = ScheduleFire.objects.filter(schedule=schedule).count()
    time.sleep(3)  # three ticks of the loop: nothing fires while paused
    assert ScheduleFire.objects.filter(schedule=schedule).count() == paused_at

    response = client.post(f"/v1/schedules/{schedule.pk}/trigger")
    assert response.status_code == 201, response.json()
    triggered = response.json()["data"]["run_id"]
    wait_for(
        lambda: Run.objects.filter(pk=triggered, status="succeeded").exists(),
        message="the triggered run",
    )
    assert ScheduleFire.objects.filter(schedule=schedule).count() == paused_at + 1

    assert client.post(f"/v1/schedules/{schedule.pk}/resume").status_code == 200
    wait_for(
        lambda: ScheduleFire.objects.filter(schedule=schedule).count() >= paused_at + 3,
        message="firing again after resume",
    )
    listed = client.get("/v1/schedules", params={"kind": "dynamic"}).json()["data"]
    assert [row["schedule_id"] for row in listed] == [str(schedule.pk)]


def test_two_maintenance_loops_fire_each_due_time_once(client, environment, tmp_path):
    second = MaintenanceProcess(tmp_path / "second-maintenance.log")
    try:
        schedule = place_order(environment, "C-3", "* * * * * *")  # every second
        wait_for(lambda: len(follow_ups(schedule)) >= 6, message="six scheduled runs")
    finally:
        second.stop()
    fires = list(ScheduleFire.objects.filter(schedule=schedule))
    due_times = [fire.due_at for fire in fires]
    assert len(due_times) == len(set(due_times))
    runs = Run.objects.filter(run_type="schedule", function="::app::main/follow-up")
    assert runs.count() == len([fire for fire in fires if fire.run_id])
    assert not [fire for fire in fires if fire.skipped]
    assert "Traceback" not in second.log_path.read_text(errors="replace")
