"""Writes on schedules: the dynamic schedules Hot code creates and cancels by sending
``hot:schedule:new`` / ``hot:schedule:cancel``, and what the API does to any schedule (pause,
resume, trigger now, time zone and overlap policy).

A dynamic schedule's id is the id of the ``hot:schedule:new`` event that created it, so the
code that sent it knows the id (``send(...).event.id``) and can cancel it.
"""

import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from builds.bundle import CronError, zone
from builds.bundle.cron import parse_when
from builds.models import OverlapPolicy, Schedule, ScheduleKind, ScheduleStatus
from events.models import Event
from events.services import SCHEDULE_CANCEL_EVENT, SCHEDULE_NEW_EVENT
from hotapi.errors import Conflict, InvalidInput, LimitExceeded

from .models import Run, RunStatus, ScheduleFire
from .scheduler import schedule_next_fire, schedule_run
from .services import enqueue_runs, run_transaction

NEW_FIELDS = {"fn", "args", "schedule", "timezone", "overlap"}


def schedule_event_sent(*, run: Run, event: Event) -> None:
    """Carry out a ``hot:schedule:new`` or ``hot:schedule:cancel`` a run has just sent, in the
    transaction that stores the event (a refused request refuses the send)."""
    if event.event_type == SCHEDULE_NEW_EVENT:
        schedule_create_dynamic(run=run, schedule_id=event.id, data=event.event_data)
    elif event.event_type == SCHEDULE_CANCEL_EVENT:
        schedule_cancel_dynamic(run=run, data=event.event_data)


def _function_name(value, what: str) -> str:
    if isinstance(value, dict) and value.get("$type") == "::hot::type/Fn":
        value = value.get("$val")
    if not isinstance(value, str) or not value.startswith("::") or "/" not in value:
        raise InvalidInput(f'{what}: fn must name a function, e.g. "::app::jobs/process"')
    return value


def _schedule_string(value) -> str:
    if isinstance(value, dict) and value.get("$type") == "::hot::type/DateTime":
        value = value.get("$val")
    if not isinstance(value, str):
        raise InvalidInput(
            "hot:schedule:new: schedule must be a string (a date-time, a delay such as "
            '"in 10 minutes", or a cron or English recurring schedule)'
        )
    return value


def _zone_name(value) -> str:
    try:
        return zone(value).key
    except CronError as exc:
        raise InvalidInput(f"timezone: {exc}") from None


def _overlap(value) -> str:
    if value not in OverlapPolicy.values:
        raise InvalidInput(f"overlap must be one of {', '.join(OverlapPolicy.values)}")
    return value


def schedule_create_dynamic(*, run: Run, schedule_id, data) -> Schedule:
    what = "hot:schedule:new"
    if not isinstance(data, dict):
        raise InvalidInput(f"{what} needs data {{fn, args, schedule}}")
    unknown = sorted(set(data) - NEW_FIELDS)
    if unknown:
        raise InvalidInput(f"{what}: unknown field(s) {', '.join(unknown)}")
    function = _function_name(data.get("fn"), what)
    if run.build is None or function not in (run.build.inspection.get("functions") or []):
        raise InvalidInput(f"{what}: the project's build does not define {function}")
    args = data.get("args")
    if args is None:
        args = []
    if not isinstance(args, list):
        raise InvalidInput(f"{what}: args must be a list of the function's arguments")
    now = timezone.now()
    try:
        when = parse_when(_schedule_string(data.get("schedule")), now)
    except CronError as exc:
        raise InvalidInput(f"{what}: {exc}") from None
    _check_room(run)
    ns, _, var = function.rpartition("/")
    schedule = Schedule(
        id=schedule_id,
        kind=ScheduleKind.DYNAMIC,
        project_id=run.project_id,
        cron=when.recurring.original if when.recurring else "",
        normalized=when.recurring.cron if when.recurring else "",
        run_at=when.at,
        ns=ns,
        var=var,
        args=args,
        timezone=_zone_name(data.get("timezone") or "UTC"),
        overlap=_overlap(data.get("overlap") or OverlapPolicy.ALLOW),
        origin_run_id=run.id,
    )
    schedule.next_fire_at = when.at or schedule_next_fire(schedule, now)
    schedule.save(force_insert=True)
    return schedule


def _check_room(run: Run) -> None:
    limit = settings.HOT_MAX_DYNAMIC_SCHEDULES
    active = Schedule.objects.filter(
        kind=ScheduleKind.DYNAMIC,
        status=ScheduleStatus.ACTIVE,
        project__environment_id=run.environment_id,
    )
    if active.count() >= limit:
        raise LimitExceeded(
            f"hot:schedule:new: the environment has {limit} active dynamic schedules "
            "(HOT_MAX_DYNAMIC_SCHEDULES); cancel some first"
        )


def schedule_cancel_dynamic(*, run: Run, data) -> int:
    """Cancel one dynamic schedule by id (``schedule-id``), or every active one of a function
    (``fn``) in the run's project. Cancelling what is already gone does nothing."""
    what = "hot:schedule:cancel"
    if not isinstance(data, dict) or not ({"schedule-id", "schedule_id", "fn"} & set(data)):
        raise InvalidInput(f'{what} needs data {{"schedule-id": id}} or {{fn: "::ns/var"}}')
    schedules = Schedule.objects.filter(
        kind=ScheduleKind.DYNAMIC,
        status=ScheduleStatus.ACTIVE,
        project__environment_id=run.environment_id,
    )
    schedule_id = data.get("schedule-id", data.get("schedule_id"))
    if schedule_id is not None:
        try:
            schedules = schedules.filter(pk=uuid.UUID(str(schedule_id)))
        except ValueError:
            raise InvalidInput(f"{what}: {schedule_id!r} is not a schedule id") from None
    else:
        function = _function_name(data.get("fn"), what)
        ns, _, var = function.rpartition("/")
        schedules = schedules.filter(project_id=run.project_id, ns=ns, var=var)
    return schedules.update(status=ScheduleStatus.CANCELLED, next_fire_at=None)


# --- through the API ---------------------------------------------------------------------------


def _locked(schedule: Schedule) -> Schedule:
    return (
        Schedule.objects.select_for_update(no_key=True, of=("self",))
        .select_related("project", "build")
        .get(pk=schedule.pk)
    )


def _check_live(schedule: Schedule) -> None:
    if schedule.status != ScheduleStatus.ACTIVE:
        raise Conflict(f"The schedule is {schedule.status}")
    if schedule.kind == ScheduleKind.DECLARED and not schedule.build.deployed:
        raise Conflict("The schedule's build is no longer deployed")


@transaction.atomic
def schedule_pause(*, schedule: Schedule) -> Schedule:
    schedule = _locked(schedule)
    _check_live(schedule)
    schedule.paused = True
    schedule.save(update_fields=["paused"])
    return schedule


@transaction.atomic
def schedule_resume(*, schedule: Schedule) -> Schedule:
    """Resume from now on: the due times passed while paused are not caught up (a one-off
    whose time passed meanwhile fires at once)."""
    schedule = _locked(schedule)
    _check_live(schedule)
    if schedule.paused:
        schedule.paused = False
        now = timezone.now()
        schedule.next_fire_at = schedule.run_at or schedule_next_fire(schedule, now)
        schedule.save(update_fields=["paused", "next_fire_at"])
    return schedule


@transaction.atomic
def schedule_update(*, schedule: Schedule, timezone_name=None, overlap=None) -> Schedule:
    schedule = _locked(schedule)
    if timezone_name is not None:
        schedule.timezone = _zone_name(timezone_name)
    if overlap is not None:
        schedule.overlap = _overlap(overlap)
    if schedule.next_fire_at is not None and schedule.run_at is None:
        schedule.next_fire_at = schedule_next_fire(schedule, timezone.now())
    schedule.save(update_fields=["timezone", "overlap", "next_fire_at"])
    return schedule


def schedule_trigger(*, schedule: Schedule) -> Run:
    """Fire now, once, whatever the time, the pause and the overlap policy (an explicit
    request); the next regular fire time does not change."""
    with run_transaction():
        schedule = _locked(schedule)
        _check_live(schedule)
        now = timezone.now()
        fire = ScheduleFire.objects.create(schedule=schedule, due_at=now, triggered=True)
        run = schedule_run(schedule, now, now, False, triggered=True)
        fire.run = run
        fire.save(update_fields=["run"])
        if run.status == RunStatus.QUEUED:
            enqueue_runs([run.pk])
    return run
