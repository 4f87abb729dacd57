"""Dynamic schedules: Hot code sends ``hot:schedule:new`` / ``hot:schedule:cancel``; the one
scheduler fires them once per due time, in their time zone, under their overlap policy."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from builds.bundle import next_fire, zone
from builds.models import Schedule
from events.models import Event
from runs import execution
from runs.models import Run, RunStatus, ScheduleFire
from runs.scheduler import scheduler_tick
from tests.runs import deploy, hot_bundle, tick_twice_at_once
from tests.runs.test_services import route

SOURCE = """\
::app::main ns

plan
fn (when: Str, who: Str): Str {
  sent send("hot:schedule:new", {fn: "::app::main/remind", args: [{who: who}], schedule: when})
  sent.event.id
}

plan-with
fn (data: Map): Str {
  sent send("hot:schedule:new", data)
  sent.event.id
}

plan-ref
fn (): Str {
  sent send("hot:schedule:new", {fn: remind, args: [{who: "ref"}], schedule: "in 1 hour"})
  sent.event.id
}

stop
fn (id: Str): Str {
  send("hot:schedule:cancel", {schedule-id: id})
  "ok"
}

stop-all
fn (): Str {
  send("hot:schedule:cancel", {fn: "::app::main/remind"})
  "ok"
}

remind
fn (data: Map): Map {
  {reminded: data.who}
}
"""

WITHOUT_REMIND = SOURCE.split("remind\nfn")[0]


@pytest.fixture
def build(api, project):
    return deploy(api, hot_bundle(SOURCE))


def call(environment, fn: str, *args) -> Run:
    (run,) = route(environment, "hot:call", {"fn": f"::app::main/{fn}", "args": list(args)})
    execution.execute_run(run_id=run.pk)
    run.refresh_from_db()
    return run


def plan(environment, when: str, who: str = "ada") -> Schedule:
    run = call(environment, "plan", when, who)
    assert run.status == RunStatus.SUCCEEDED, run.error
    return Schedule.objects.get(pk=run.result)


def execute(run: Run) -> Run:
    execution.execute_run(run_id=run.pk)
    run.refresh_from_db()
    return run


@pytest.mark.django_db(transaction=True)
def test_a_one_off_schedule_fires_once_with_its_arguments(environment, build, project):
    before = timezone.now()
    schedule = plan(environment, "in 10 minutes")
    assert schedule.kind == "dynamic" and schedule.project_id == project.pk
    assert schedule.function == "::app::main/remind" and schedule.args == [{"who": "ada"}]
    assert (
        before + timedelta(minutes=10) <= schedule.run_at <= timezone.now() + timedelta(minutes=10)
    )
    assert schedule.next_fire_at == schedule.run_at
    # The schedule's id is the id of the hot:schedule:new event the code sent.
    event = Event.objects.get(pk=schedule.pk)
    assert event.event_type == "hot:schedule:new" and event.origin_run_id == schedule.origin_run_id

    assert scheduler_tick(now=schedule.run_at - timedelta(seconds=1)) == 0
    assert scheduler_tick(now=schedule.run_at) == 1
    assert scheduler_tick(now=schedule.run_at + timedelta(minutes=5)) == 0
    run = Run.objects.get(run_type="schedule")
    assert run.function == "::app::main/remind" and run.build_id == build.pk
    assert execute(run).result == {"reminded": "ada"}
    schedule.refresh_from_db()
    assert schedule.status == "completed" and schedule.next_fire_at is None
    assert ScheduleFire.objects.get().due_at == schedule.run_at


@pytest.mark.django_db(transaction=True)
def test_a_recurring_schedule_fires_once_per_due_time(environment, build):
    schedule = plan(environment, "*/10 * * * * *")
    assert schedule.cron == "*/10 * * * * *" and schedule.run_at is None
    start = datetime(2030, 1, 1, 12, tzinfo=UTC)
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=start)
    fired = [scheduler_tick(now=start + timedelta(seconds=second)) for second in range(30)]
    assert sum(fired) == 3
    assert [fire.due_at for fire in ScheduleFire.objects.order_by("due_at")] == [
        start + timedelta(seconds=10 * i) for i in range(3)
    ]
    assert {run.args[0]["who"] for run in Run.objects.filter(run_type="schedule")} == {"ada"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("start", "local_days"),
    [
        # Spring forward (29 March 2026): 02:30 does not exist that night; it fires at 03:30.
        (datetime(2026, 3, 27, tzinfo=UTC), ["02:30+01:00", "02:30+01:00", "03:30+02:00"]),
        # Fall back (25 October 2026): 02:30 happens twice; it fires once, the first time.
        (datetime(2026, 10, 24, tzinfo=UTC), ["02:30+02:00", "02:30+02:00", "02:30+01:00"]),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_time_zone_schedule_across_a_dst_change(environment, build, start, local_days):
    run = call(
        environment,
        "plan-with",
        {"fn": "::app::main/remind", "schedule": "30 2 * * *", "timezone": "Europe/Paris"},
    )
    schedule = Schedule.objects.get(pk=run.result)
    assert schedule.timezone == "Europe/Paris"
    paris = zone("Europe/Paris")
    first = next_fire("30 2 * * *", start, paris)
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=first)
    fired = sum(scheduler_tick(now=start + timedelta(minutes=15 * step)) for step in range(3 * 96))
    assert fired == len(local_days)
    fires = [fire.due_at.astimezone(paris) for fire in ScheduleFire.objects.order_by("due_at")]
    assert [moment.isoformat()[11:16] + moment.isoformat()[-6:] for moment in fires] == local_days


@pytest.mark.django_db(transaction=True)
def test_cancel_by_id_and_by_function(environment, build):
    first = plan(environment, "in 1 hour", "ada")
    second = plan(environment, "every day at 9am", "bob")
    third = plan(environment, "2030-01-15T10:30:00Z", "cy")
    assert second.normalized == "0 0 9 * * * *" and second.next_fire_at.hour == 9
    assert third.run_at == datetime(2030, 1, 15, 10, 30, tzinfo=UTC)
    assert call(environment, "stop", str(first.pk)).status == RunStatus.SUCCEEDED
    first.refresh_from_db()
    assert first.status == "cancelled" and first.next_fire_at is None
    assert call(environment, "stop-all").status == RunStatus.SUCCEEDED
    assert set(Schedule.objects.filter(kind="dynamic").values_list("status", flat=True)) == {
        "cancelled"
    }
    assert scheduler_tick(now=datetime(2031, 1, 1, tzinfo=UTC)) == 0
    # Cancelling what is gone already does nothing.
    assert call(environment, "stop", str(first.pk)).status == RunStatus.SUCCEEDED


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fn": "::app::main/remind", "schedule": "whenever"}, "is not a date-time"),
        ({"fn": "::app::main/remind"}, "schedule must be a string"),
        ({"fn": "remind", "schedule": "in 1 hour"}, "fn must name a function"),
        ({"fn": "::app::main/nope", "schedule": "in 1 hour"}, "does not define ::app::main/nope"),
        ({"fn": "::app::main/remind", "schedule": "1h", "args": 3}, "args must be a list"),
        (
            {"fn": "::app::main/remind", "schedule": "@daily", "timezone": "Mars/Olympus"},
            "unknown time zone",
        ),
        ({"fn": "::app::main/remind", "schedule": "@daily", "overlap": "maybe"}, "overlap"),
        ({"fn": "::app::main/remind", "schedule": "@daily", "cron": "x"}, "unknown field"),
        ({"fn": "::app::main/remind", "schedule": "2030-01-15T10:30:00"}, "no UTC offset"),
    ],
)
def test_a_bad_request_refuses_the_send(environment, build, data, message):
    run = call(environment, "plan-with", data)
    assert run.status == RunStatus.FAILED
    assert "hot:schedule:new" in run.error and message in run.error, run.error
    assert not Schedule.objects.filter(kind="dynamic").exists()
    assert not Event.objects.filter(event_type="hot:schedule:new").exists()


@pytest.mark.django_db(transaction=True)
def test_dynamic_schedules_outlive_a_redeploy(api, environment, build):
    schedule = plan(environment, "in 10 minutes")
    new_build = deploy(api, hot_bundle(SOURCE.replace("reminded", "again")))
    assert scheduler_tick(now=schedule.run_at) == 1
    run = Run.objects.get(run_type="schedule")
    assert run.build_id == new_build.pk
    assert execute(run).result == {"again": "ada"}


@pytest.mark.django_db(transaction=True)
def test_a_function_gone_from_the_deployed_build_fails_the_run(api, environment, build):
    schedule = plan(environment, "in 10 minutes")
    deploy(api, hot_bundle(WITHOUT_REMIND))
    assert scheduler_tick(now=schedule.run_at) == 1
    run = Run.objects.get(run_type="schedule")
    assert run.status == RunStatus.FAILED
    assert "No deployed build of project billing defines ::app::main/remind" in run.error


@pytest.mark.django_db(transaction=True)
def test_an_inactive_project_holds_its_dynamic_schedules(api, environment, build):
    schedule = plan(environment, "in 10 minutes")
    assert api.post("/v1/projects/billing/deactivate").status_code == 200
    assert scheduler_tick(now=schedule.run_at + timedelta(hours=1)) == 0
    # Deleting the project deletes them.
    assert api.delete("/v1/projects/billing").status_code in (200, 204)
    assert not Schedule.objects.filter(pk=schedule.pk).exists()


def _every_ten_seconds(environment, overlap: str) -> Schedule:
    run = call(
        environment,
        "plan-with",
        {"fn": "::app::main/remind", "schedule": "*/10 * * * * *", "overlap": overlap},
    )
    schedule = Schedule.objects.get(pk=run.result)
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=T0)
    return schedule


T0 = datetime(2030, 1, 1, 12, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_overlap_skip_records_the_skipped_due_time(environment, build):
    schedule = _every_ten_seconds(environment, "skip")
    assert scheduler_tick(now=T0) == 1
    first = Run.objects.get(run_type="schedule")  # queued: no worker here
    assert scheduler_tick(now=T0 + timedelta(seconds=10)) == 0
    skipped = ScheduleFire.objects.get(due_at=T0 + timedelta(seconds=10))
    assert skipped.skipped and skipped.run_id is None
    execute(first)
    assert scheduler_tick(now=T0 + timedelta(seconds=20)) == 1
    assert Run.objects.filter(run_type="schedule").count() == 2
    schedule.refresh_from_db()
    assert schedule.next_fire_at == T0 + timedelta(seconds=30)


@pytest.mark.django_db(transaction=True)
def test_overlap_queue_fires_once_the_previous_run_ends(environment, build):
    schedule = _every_ten_seconds(environment, "queue")
    assert scheduler_tick(now=T0) == 1
    first = Run.objects.get(run_type="schedule")
    assert scheduler_tick(now=T0 + timedelta(seconds=10)) == 0
    assert scheduler_tick(now=T0 + timedelta(seconds=15)) == 0
    schedule.refresh_from_db()
    assert schedule.next_fire_at == T0 + timedelta(seconds=10)  # still due
    execute(first)
    assert scheduler_tick(now=T0 + timedelta(seconds=16)) == 1
    assert [fire.due_at for fire in ScheduleFire.objects.order_by("due_at")] == [
        T0,
        T0 + timedelta(seconds=10),
    ]
    assert not ScheduleFire.objects.filter(skipped=True).exists()


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_fire_a_dynamic_schedule_once_per_due_time(environment, build):
    schedule = _every_ten_seconds(environment, "allow")
    rounds = 4
    for index in range(rounds):
        now = T0 + timedelta(seconds=10 * index)
        assert tick_twice_at_once(now) == [0, 1], index
    fires = ScheduleFire.objects.filter(schedule=schedule).order_by("due_at")
    assert [fire.due_at for fire in fires] == [T0 + timedelta(seconds=10 * i) for i in range(4)]
    assert Run.objects.filter(run_type="schedule").count() == rounds


@pytest.mark.django_db(transaction=True)
def test_the_number_of_active_dynamic_schedules_is_capped(environment, build, settings):
    settings.HOT_MAX_DYNAMIC_SCHEDULES = 2
    first = plan(environment, "in 1 hour")
    plan(environment, "in 2 hours")
    run = call(environment, "plan", "in 3 hours", "cy")
    assert run.status == RunStatus.FAILED and "HOT_MAX_DYNAMIC_SCHEDULES" in run.error
    assert call(environment, "stop", str(first.pk)).status == RunStatus.SUCCEEDED
    assert call(environment, "plan", "in 3 hours", "cy").status == RunStatus.SUCCEEDED
    assert Schedule.objects.filter(kind="dynamic", status="active").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_malformed_cancel_refuses_the_send(environment, build):
    run = call(environment, "stop", "not-a-uuid")
    assert run.status == RunStatus.FAILED and "is not a schedule id" in run.error


@pytest.mark.django_db(transaction=True)
def test_active_dynamic_schedules_count_in_the_usage(api, environment, build):
    schedule = plan(environment, "every day at 9am")
    assert api.get("/v1/org/usage").json()["data"]["usage"]["active_schedules"] == 1
    call(environment, "stop", str(schedule.pk))
    assert api.get("/v1/org/usage").json()["data"]["usage"]["active_schedules"] == 0


@pytest.mark.django_db(transaction=True)
def test_fn_may_be_a_function_reference(environment, build):
    run = call(environment, "plan-ref")
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert Schedule.objects.get(pk=run.result).function == "::app::main/remind"
