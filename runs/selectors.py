"""Reads on runs: filtered lists, stats from counters, variables, compute usage."""

import re
import threading
import time
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum, UUIDField
from django.utils import timezone

from builds.models import Schedule, ScheduleKind, ScheduleStatus
from environments.usage import COMPUTE_SECONDS_THIS_MONTH, usage
from hotapi.api.lookups import get_by_id_or_404
from hotapi.errors import InvalidInput
from projects.selectors import project_get

from .models import Run, RunCounter, RunLog, RunStatus, RunType, RunVariable, ScheduleFire

RUN_ORDER = ("-created_at", "-id")
# ASCII digits, at most 9 per part: beyond, every value is out of range anyway.
_NUMBER = "[0-9]{1,9}"
_DURATION = re.compile(
    rf"P(?:(?P<years>{_NUMBER})Y)?(?:(?P<months>{_NUMBER})M)?(?:(?P<weeks>{_NUMBER})W)?"
    rf"(?:(?P<days>{_NUMBER})D)?"
    rf"(?:T(?:(?P<hours>{_NUMBER})H)?(?:(?P<minutes>{_NUMBER})M)?(?:(?P<seconds>{_NUMBER})S)?)?"
)


def _one_or_more(units: str) -> str:
    """A regex for one or more of the ``units`` (in this order), each with its number."""
    parts = [f"{_NUMBER}{unit}" for unit in units]
    return "|".join(
        "".join([parts[first]] + [f"({part})?" for part in parts[first + 1 :]])
        for first in range(len(parts))
    )


# The schema's pattern for ``time_range``: the same durations, empty, or ``all``.
TIME_RANGE_PATTERN = (
    rf"^(|all|P(({_one_or_more('YMWD')})(T({_one_or_more('HMS')}))?|T({_one_or_more('HMS')})))$"
)
MAX_RANGE_DAYS = 3660  # longer ranges select everything


def parse_time_range(value: str | None, now=None):
    """The cutoff for an ISO 8601 duration such as ``P7D`` or ``PT12H`` (``None``, ``""`` and
    ``all`` mean no filter, and so does a range longer than the data can be old). Anything that
    is not such a duration is refused with 400."""
    if value in (None, "", "all"):
        return None
    match = _DURATION.fullmatch(value)
    if not match or not re.match(TIME_RANGE_PATTERN, value):
        raise InvalidInput(
            f"time_range must be an ISO 8601 duration such as P7D or PT12H, got {value!r}",
            details={"time_range": ["invalid ISO 8601 duration"]},
        )
    parts = {key: int(number) for key, number in match.groupdict().items() if number}
    bound_days = (
        parts.get("years", 0) * 366
        + parts.get("months", 0) * 31
        + parts.get("weeks", 0) * 7
        + parts.get("days", 0)
        + parts.get("hours", 0) / 24
        + parts.get("minutes", 0) / 1440
        + parts.get("seconds", 0) / 86400
    )
    if bound_days > MAX_RANGE_DAYS:  # older than anything kept: no filter
        return None
    now = now or timezone.now()
    return (
        now
        - relativedelta(years=parts.get("years", 0), months=parts.get("months", 0))
        - timedelta(
            weeks=parts.get("weeks", 0),
            days=parts.get("days", 0),
            hours=parts.get("hours", 0),
            minutes=parts.get("minutes", 0),
            seconds=parts.get("seconds", 0),
        )
    )


def _choice(name: str, value: str | None, choices) -> str | None:
    if value is None:
        return None
    if value not in choices:
        raise InvalidInput(
            f"{name} must be one of {', '.join(choices)}, got {value!r}",
            details={name: [f"unknown {name}"]},
        )
    return value


def run_list(
    *, environment, status=None, run_type=None, time_range=None, project=None, event_type=None
) -> QuerySet[Run]:
    runs = Run.objects.filter(environment=environment)
    if status := _choice("status", status, RunStatus.values):
        runs = runs.filter(status=status)
    if run_type := _choice("type", run_type, RunType.values):
        runs = runs.filter(run_type=run_type)
    else:  # task executions are listed only when asked for (GET /v1/tasks/{id} shows them)
        runs = runs.exclude(run_type=RunType.TASK)
    if (cutoff := parse_time_range(time_range)) is not None:
        runs = runs.filter(created_at__gte=cutoff)
    if project:
        runs = runs.filter(project=project_get(environment=environment, ref=project))
    if event_type:
        runs = runs.filter(event__event_type=event_type)
    return runs.select_related("project").order_by(*RUN_ORDER)


def run_get(*, environment, run_id: str) -> Run:
    runs = Run.objects.filter(environment=environment).select_related("project")
    return get_by_id_or_404(runs, run_id, "Run not found")


def event_runs(*, event) -> QuerySet[Run]:
    return Run.objects.filter(event=event).select_related("project").order_by(*RUN_ORDER)


def run_variables(*, run) -> QuerySet[RunVariable]:
    return RunVariable.objects.filter(run=run).select_related("run").order_by("sequence")


def run_logs(*, run) -> QuerySet[RunLog]:
    return RunLog.objects.filter(run=run).order_by("sequence")


def run_stats(*, environment) -> dict:
    """Counts per status from the counters (a few rows), never from the run table."""
    totals = dict.fromkeys(RunStatus.values, 0)
    rows = (
        RunCounter.objects.filter(environment=environment)
        .values("status")
        .annotate(total=Sum("count"))
    )
    for row in rows:
        totals[row["status"]] = row["total"]
    return {
        "total_runs": sum(totals.values()),
        "running": totals[RunStatus.RUNNING],
        "succeeded": totals[RunStatus.SUCCEEDED],
        "failed": totals[RunStatus.FAILED],
        "cancelled": totals[RunStatus.CANCELLED],
        "queued": totals[RunStatus.QUEUED],
        "pending_retry": totals[RunStatus.PENDING_RETRY],
    }


def _month_start():
    return timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def runs_this_month(*, environment) -> int:
    """Runs created this calendar month (UTC), a meter of ``environments.usage``."""
    return Run.objects.filter(environment=environment, created_at__gte=_month_start()).count()


def compute_seconds_this_month(*, environment) -> float:
    month_start = _month_start()
    total = Run.objects.filter(
        environment=environment, created_at__gte=month_start, duration_ms__isnull=False
    ).aggregate(total=Sum("duration_ms"))["total"]
    return (total or 0) / 1000


_compute_used: dict[str, tuple[float, float]] = {}  # environment -> (until, seconds used)
_compute_used_lock = threading.Lock()


def _compute_seconds_used(environment) -> float:
    key, now = str(environment.pk), time.monotonic()
    with _compute_used_lock:
        until, used = _compute_used.get(key, (0.0, 0.0))
    if now < until:
        return used
    used = usage(COMPUTE_SECONDS_THIS_MONTH, environment=environment)
    with _compute_used_lock:
        _compute_used[key] = (now + settings.HOT_COMPUTE_QUOTA_CACHE_SECONDS, used)
    return used


def compute_quota_refusal(*, environment) -> str | None:
    """Why no new run may start in ``environment`` (its monthly compute quota is used up), or
    None. The time used is summed over the month's runs, so it is kept for a few seconds in
    each process (not in the shared cache: that would be a network round trip per run): a
    burst of claims costs one sum, and the quota may be overrun by that much."""
    limit = environment.compute_seconds_per_month
    if limit <= 0:  # as for requests_per_hour: zero means no limit
        return None
    used = _compute_seconds_used(environment)
    if used < limit:
        return None
    return (
        f"The environment has used its compute quota for this month ({int(used)} of {limit} "
        "seconds of run time); new runs start again next month or once the quota is raised"
    )


# --- schedules -------------------------------------------------------------------------------

SCHEDULE_ORDER = ("project__name", "kind", "ns", "var", "id")


def schedule_rows(environment=None) -> QuerySet[Schedule]:
    """The schedules that are current (of ``environment``, or all): those of deployed builds,
    and every dynamic one (active, paused, cancelled or completed), each with its last
    firing."""
    last = ScheduleFire.objects.filter(schedule=OuterRef("pk"), skipped=False).order_by(
        "-fired_at", "-id"
    )
    rows = Schedule.objects.all()
    if environment is not None:
        rows = rows.filter(project__environment=environment)
    return (
        rows.filter(
            Q(kind=ScheduleKind.DECLARED, build__deployed=True) | Q(kind=ScheduleKind.DYNAMIC)
        )
        .select_related("project")
        .annotate(
            last_fired_at=Subquery(last.values("fired_at")[:1]),
            last_due_at=Subquery(last.values("due_at")[:1]),
            last_run_id=Subquery(last.values("run_id")[:1], output_field=UUIDField()),
            last_run_status=Subquery(last.values("run__status")[:1]),
        )
    )


def schedule_list(*, environment, project=None, kind=None, status=None) -> QuerySet[Schedule]:
    schedules = schedule_rows(environment)
    if project:
        schedules = schedules.filter(project=project_get(environment=environment, ref=project))
    if kind := _choice("kind", kind, ScheduleKind.values):
        schedules = schedules.filter(kind=kind)
    if status == "paused":
        schedules = schedules.filter(status=ScheduleStatus.ACTIVE, paused=True)
    elif status := _choice("status", status, [*ScheduleStatus.values, "paused"]):
        schedules = schedules.filter(status=status)
    return schedules.order_by(*SCHEDULE_ORDER)


def schedule_get(*, environment, schedule_id: str) -> Schedule:
    return get_by_id_or_404(schedule_rows(environment), schedule_id, "Schedule not found")
