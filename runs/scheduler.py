"""Firing schedules: the ones deployed builds declare and the dynamic ones Hot code creates
(``hot:schedule:new``), in one loop.

Each tick fires every schedule whose ``next_fire_at`` has come, exactly once per due time: a
``ScheduleFire`` row per (schedule, due time) is unique, so two schedulers (or a retried tick)
cannot fire it twice. A recurring schedule is read in its IANA time zone (UTC unless set), with
the daylight-saving rules of ``builds.bundle.cron``. After downtime a schedule fires once for
the latest missed time (marked ``is_backfill``), not once per missed tick. A paused schedule,
or one of an inactive project, does not fire.

The overlap policy decides what a due time does while the schedule's previous run is still
queued or running: ``allow`` fires anyway, ``skip`` records the due time as skipped, ``queue``
waits (the due time stays due) and fires once when the previous run has ended.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from builds.bundle import latest_fire, next_fire, zone
from builds.models import OverlapPolicy, Schedule, ScheduleKind, ScheduleStatus
from builds.selectors import serving_builds
from events.services import SCHEDULE_EVENT, EventSource, event_publish
from hotapi.db import retrying
from hotapi.timestamps import utc_timestamp

from .models import Run, RunStatus, RunType, ScheduleFire
from .retries import retry_policy
from .services import enqueue_runs, run_create, run_create_failed, run_transaction

log = logging.getLogger(__name__)

# A fire this late after its due time is reported as a backfill.
LATE_AFTER = timedelta(seconds=30)
BATCH = 200
IN_PROGRESS = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PENDING_RETRY)


def can_fire() -> Q:
    """Schedules the scheduler may fire (given their time has come)."""
    return Q(paused=False, status=ScheduleStatus.ACTIVE, project__active=True) & (
        Q(kind=ScheduleKind.DECLARED, build__deployed=True) | Q(kind=ScheduleKind.DYNAMIC)
    )


def schedule_next_fire(schedule: Schedule, after):
    """When ``schedule`` fires next after ``after`` (None: never again)."""
    if schedule.run_at is not None:
        return schedule.run_at if schedule.run_at > after else None
    return next_fire(schedule.normalized or schedule.cron, after, zone(schedule.timezone))


def schedule_argument(schedule: Schedule, due, now, backfill: bool) -> dict:
    """What a declared scheduled function receives, as Hot passes it."""
    return {
        "type": SCHEDULE_EVENT,
        "schedule_id": str(schedule.id),
        "scheduled_at": utc_timestamp(due),
        "is_backfill": backfill,
        "backfilled_at": utc_timestamp(now) if backfill else None,
    }


def scheduler_tick(*, now=None) -> int:
    now = now or timezone.now()
    due_ids = list(
        Schedule.objects.filter(can_fire(), next_fire_at__lte=now)
        .order_by("next_fire_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(fire_schedule(schedule_id=schedule_id, now=now) for schedule_id in due_ids)


def run_in_progress(schedule: Schedule) -> bool:
    return ScheduleFire.objects.filter(schedule=schedule, run__status__in=IN_PROGRESS).exists()


@retrying()
def fire_schedule(*, schedule_id, now) -> int:
    with run_transaction():
        rows = Schedule.objects.filter(can_fire(), pk=schedule_id, next_fire_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            # Only the schedule row, and FOR NO KEY UPDATE: locking the build or project (or
            # FOR UPDATE) would conflict with the foreign-key checks of runs being created.
            rows = rows.select_for_update(skip_locked=True, no_key=True, of=("self",))
        schedule = rows.select_related("project").first()
        if schedule is None:
            return 0  # fired meanwhile by another scheduler, paused, cancelled or undeployed
        busy = schedule.overlap != OverlapPolicy.ALLOW and run_in_progress(schedule)
        if busy and schedule.overlap == OverlapPolicy.QUEUE:
            return 0  # stays due; fires once the previous run has ended
        due = _due_time(schedule, now)
        backfill = now - due > LATE_AFTER or due > schedule.next_fire_at
        schedule.next_fire_at = schedule_next_fire(schedule, now)
        if schedule.run_at is not None:
            schedule.status = ScheduleStatus.COMPLETED
        schedule.save(update_fields=["next_fire_at", "status"])
        try:
            with transaction.atomic():
                fire = ScheduleFire.objects.create(schedule=schedule, due_at=due, skipped=busy)
        except IntegrityError:
            return 0
        if busy:
            log.info("schedule %s: due time %s skipped, previous run still going", schedule, due)
            return 0
        run = schedule_run(schedule, due, now, backfill)
        fire.run = run
        fire.save(update_fields=["run"])
        if run.status == RunStatus.QUEUED:
            enqueue_runs([run.pk])
    return 1


def _due_time(schedule: Schedule, now):
    if schedule.run_at is not None:
        return schedule.run_at
    expression = schedule.normalized or schedule.cron
    due = latest_fire(expression, now, zone(schedule.timezone))
    return max(due, schedule.next_fire_at)


def schedule_run(schedule: Schedule, due, now, backfill: bool, *, triggered: bool = False) -> Run:
    """The run of one firing, with its ``hot:schedule`` event. A declared schedule calls its
    function with the schedule argument; a dynamic one calls its function with its arguments,
    in the project's serving build that defines it (a failed run says so when none does)."""
    project = schedule.project
    function = schedule.function
    if schedule.kind == ScheduleKind.DECLARED:
        args = [schedule_argument(schedule, due, now, backfill)]
        build_id, meta = schedule.build_id, schedule.meta
    else:
        args = list(schedule.args)
        build = _serving_build(schedule)
        build_id, meta = (build.id if build else None), {}
    event = event_publish(
        environment=project.environment,
        event_type=SCHEDULE_EVENT,
        event_data={"fn": function, "args": args, "schedule_id": str(schedule.id)},
        source=EventSource.PLATFORM,
        routed_runs=1,  # its run is created right here
    )
    fields = {
        "environment_id": project.environment_id,
        "stream_id": event.stream_id,
        "event_id": event.id,
        "route_key": "schedule:trigger" if triggered else "schedule",
        "run_type": RunType.SCHEDULE,
        "function": function,
        "args": args,
        "project_id": project.id,
        "origin_run_id": None,
    }
    if build_id is None:
        return run_create_failed(
            message=f"No deployed build of project {project.name} defines {function}", **fields
        )
    return run_create(build_id=build_id, retry_policy=retry_policy(meta), **fields)


def _serving_build(schedule: Schedule):
    builds = serving_builds(environment_id=schedule.project.environment_id).filter(
        project_id=schedule.project_id
    )
    for build in builds:
        if schedule.function in (build.inspection.get("functions") or []):
            return build
    return None
