"""Schedules of deployed builds fire once per due time, in UTC, with explicit clocks."""

from datetime import UTC, datetime, timedelta

import pytest

from builds.bundle import next_fire
from builds.models import Schedule
from runs import execution
from runs.models import Run, RunStatus, ScheduleFire
from runs.scheduler import scheduler_tick
from tests import bundles
from tests.runs import deploy, hot_bundle, tick_twice_at_once

SOURCE = """\
::app::main ns

tick
meta {schedule: "*/10 * * * * *"}
fn (event) {
  {at: event.scheduled_at, backfill: event.is_backfill, kind: event.type}
}

nightly
meta {schedule: "0 2 * * *"}
fn (event) {
  "nightly"
}
"""

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def schedule_bundle(*schedules) -> bytes:
    return hot_bundle(SOURCE, schedules=schedules)


@pytest.fixture
def every_ten_seconds(api, project):
    """A deployed ``*/10 * * * * *`` schedule (seconds first), next due at T0."""
    build = deploy(api, schedule_bundle(("*/10 * * * * *", "tick")))
    schedule = Schedule.objects.get(build=build)
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=T0)
    return Schedule.objects.get(pk=schedule.pk)


def due_times(schedule=None):
    fires = ScheduleFire.objects.order_by("due_at")
    if schedule is not None:
        fires = fires.filter(schedule=schedule)
    return [fire.due_at for fire in fires]


@pytest.mark.django_db
def test_six_field_cron_has_seconds_first(every_ten_seconds):
    assert next_fire("*/10 * * * * *", T0) == T0 + timedelta(seconds=10)
    assert next_fire("*/10 * * * * *", T0 + timedelta(seconds=3)) == T0 + timedelta(seconds=10)


@pytest.mark.django_db
def test_fires_once_per_due_time(every_ten_seconds):
    fired = [scheduler_tick(now=T0 + timedelta(seconds=second)) for second in range(60)]
    assert sum(fired) == 6
    assert [i for i, n in enumerate(fired) if n] == [0, 10, 20, 30, 40, 50]
    assert due_times() == [T0 + timedelta(seconds=10 * i) for i in range(6)]
    every_ten_seconds.refresh_from_db()
    assert every_ten_seconds.next_fire_at == T0 + timedelta(seconds=60)
    assert Run.objects.filter(run_type="schedule").count() == 6


@pytest.mark.django_db
def test_a_repeated_tick_fires_once(every_ten_seconds):
    assert scheduler_tick(now=T0) == 1
    assert scheduler_tick(now=T0) == 0
    assert scheduler_tick(now=T0 + timedelta(seconds=5)) == 0
    assert due_times() == [T0]
    assert Run.objects.count() == 1


@pytest.mark.django_db
def test_nothing_fires_before_the_due_time(every_ten_seconds):
    assert scheduler_tick(now=T0 - timedelta(seconds=1)) == 0
    assert ScheduleFire.objects.count() == 0


@pytest.mark.django_db
def test_schedule_run_shape_and_argument(every_ten_seconds):
    assert scheduler_tick(now=T0 + timedelta(seconds=2)) == 1
    run = Run.objects.get()
    assert run.run_type == "schedule" and run.status == RunStatus.QUEUED
    assert run.function == "::app::main/tick"
    assert run.build_id == every_ten_seconds.build_id
    assert run.project.name == "billing"
    assert run.args == [
        {
            "type": "hot:schedule",
            "schedule_id": str(every_ten_seconds.id),
            "scheduled_at": "2030-01-01T12:00:00Z",
            "is_backfill": False,
            "backfilled_at": None,
        }
    ]
    assert ScheduleFire.objects.get().run_id == run.pk


@pytest.mark.django_db
def test_catch_up_after_downtime_fires_once(every_ten_seconds):
    now = T0 + timedelta(days=1, seconds=5)
    assert scheduler_tick(now=now) == 1
    assert scheduler_tick(now=now + timedelta(seconds=1)) == 0
    run = Run.objects.get()
    (argument,) = run.args
    assert argument["is_backfill"] is True
    assert argument["scheduled_at"] == "2030-01-02T12:00:00Z"  # the latest missed time
    assert argument["backfilled_at"] == "2030-01-02T12:00:05Z"
    every_ten_seconds.refresh_from_db()
    assert every_ten_seconds.next_fire_at == T0 + timedelta(days=1, seconds=10)
    assert every_ten_seconds.next_fire_at > now
    assert ScheduleFire.objects.count() == 1


@pytest.mark.django_db
def test_redeploy_replaces_schedules(api, every_ten_seconds):
    new_build = deploy(api, schedule_bundle(("0 2 * * *", "nightly")))
    every_ten_seconds.refresh_from_db()
    assert every_ten_seconds.next_fire_at is None
    replacement = Schedule.objects.get(build=new_build)
    assert replacement.next_fire_at is not None
    assert (replacement.next_fire_at.hour, replacement.next_fire_at.minute) == (2, 0)
    far = replacement.next_fire_at + timedelta(minutes=1)
    assert scheduler_tick(now=far) == 1
    assert [fire.schedule_id for fire in ScheduleFire.objects.all()] == [replacement.pk]
    assert Run.objects.get().function == "::app::main/nightly"
    schedules = api.get("/v1/projects/billing/schedules").json()["data"]
    assert [s["var"] for s in schedules] == ["nightly"]


@pytest.mark.django_db
def test_deactivated_project_schedules_do_not_fire(api, every_ten_seconds):
    assert api.post("/v1/projects/billing/deactivate").status_code == 200
    every_ten_seconds.refresh_from_db()
    assert every_ten_seconds.next_fire_at is None
    assert scheduler_tick(now=T0 + timedelta(days=1)) == 0
    # Even a stale due time of an inactive project does not fire.
    Schedule.objects.filter(pk=every_ten_seconds.pk).update(next_fire_at=T0)
    assert scheduler_tick(now=T0 + timedelta(days=1)) == 0
    assert ScheduleFire.objects.count() == 0 and Run.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "start",
    [datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 10, 23, tzinfo=UTC)],
    ids=["march-dst", "october-dst"],
)
def test_daily_schedule_fires_once_per_utc_day_across_dst(api, project, start):
    build = deploy(api, schedule_bundle(("0 2 * * *", "nightly")))
    schedule = Schedule.objects.get(build=build)
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=next_fire("0 2 * * *", start))
    fired = 0
    for step in range(4 * 24 * 4):  # four days of 15-minute ticks
        fired += scheduler_tick(now=start + timedelta(minutes=15 * step))
    assert fired == 4
    assert due_times() == [start + timedelta(days=day, hours=2) for day in range(4)]
    assert all(run.args[0]["is_backfill"] is False for run in Run.objects.all())


@pytest.mark.django_db
def test_default_english_schedule_is_2am_utc(api, project):
    build = deploy(api, bundles.make_bundle()[0])
    schedule = Schedule.objects.get(build=build)
    assert schedule.cron == "every day at 2:00 am"
    fire = schedule.next_fire_at
    assert (fire.hour, fire.minute, fire.second) == (2, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_fire_each_due_time_once(every_ten_seconds):
    rounds = 5
    for index in range(rounds):
        now = T0 + timedelta(seconds=10 * index)
        assert tick_twice_at_once(now) == [0, 1], index
    assert due_times() == [T0 + timedelta(seconds=10 * i) for i in range(rounds)]
    assert Run.objects.filter(run_type="schedule").count() == rounds


@pytest.mark.django_db(transaction=True)
def test_scheduled_function_receives_the_argument(every_ten_seconds):
    assert scheduler_tick(now=T0) == 1
    run = Run.objects.get()
    assert execution.execute_run(run_id=run.pk) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    assert run.result == {"at": "2030-01-01T12:00:00Z", "backfill": False, "kind": "hot:schedule"}
