"""Firing the schedules of deployed builds.

Each tick fires every schedule whose ``next_fire_at`` has come, exactly once per due time: a
``ScheduleFire`` row per (schedule, due time) is unique, so two schedulers (or a retried tick)
cannot fire it twice. Times are UTC, so daylight-saving changes do not exist here. After
downtime a schedule fires once for the latest missed time (marked ``is_backfill``), not once
per missed tick.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from builds.bundle import latest_fire, next_fire
from builds.models import Schedule
from events.services import SCHEDULE_EVENT, EventSource, event_publish
from hotapi.db import retrying
from hotapi.timestamps import utc_timestamp

from .models import RunType, ScheduleFire
from .retries import retry_policy
from .services import enqueue_runs, run_create, run_transaction

log = logging.getLogger(__name__)

# A fire this late after its due time is reported as a backfill.
LATE_AFTER = timedelta(seconds=30)
BATCH = 200


def schedule_argument(schedule: Schedule, due, now, backfill: bool) -> dict:
    """What a scheduled function receives, as Hot passes it."""
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
        Schedule.objects.filter(
            next_fire_at__lte=now, build__deployed=True, build__project__active=True
        )
        .order_by("next_fire_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(fire_schedule(schedule_id=schedule_id, now=now) for schedule_id in due_ids)


@retrying()
def fire_schedule(*, schedule_id, now) -> int:
    with run_transaction():
        rows = Schedule.objects.filter(pk=schedule_id, next_fire_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            # Only the schedule row, and FOR NO KEY UPDATE: locking the build or project (or
            # FOR UPDATE) would conflict with the foreign-key checks of runs being created.
            rows = rows.select_for_update(skip_locked=True, no_key=True, of=("self",))
        schedule = rows.select_related("build__project").first()
        if schedule is None or not schedule.build.deployed:
            return 0  # fired meanwhile by another scheduler, or undeployed
        expression = schedule.normalized or schedule.cron
        due = latest_fire(expression, now)
        if due < schedule.next_fire_at:
            due = schedule.next_fire_at
        backfill = now - due > LATE_AFTER or due > schedule.next_fire_at
        schedule.next_fire_at = next_fire(expression, now)
        schedule.save(update_fields=["next_fire_at"])
        try:
            with transaction.atomic():
                fire = ScheduleFire.objects.create(schedule=schedule, due_at=due)
        except IntegrityError:
            return 0
        run = _schedule_run(schedule, due, now, backfill)
        fire.run = run
        fire.save(update_fields=["run"])
        enqueue_runs([run.pk])
    return 1


def _schedule_run(schedule: Schedule, due, now, backfill: bool):
    project = schedule.build.project
    function = f"{schedule.ns}/{schedule.var}"
    argument = schedule_argument(schedule, due, now, backfill)

    event = event_publish(
        environment=project.environment,
        event_type=SCHEDULE_EVENT,
        event_data={"fn": function, "args": [argument]},
        source=EventSource.PLATFORM,
        routed_runs=1,  # its run is created right here
    )
    return run_create(
        environment_id=project.environment_id,
        stream_id=event.stream_id,
        event_id=event.id,
        route_key="schedule",
        run_type=RunType.SCHEDULE,
        function=function,
        args=[argument],
        project_id=project.id,
        build_id=schedule.build_id,
        retry_policy=retry_policy(schedule.meta),
    )
