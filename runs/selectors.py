"""Reads on runs: filtered lists, stats from counters, variables, compute usage."""

import re
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.db.models import QuerySet, Sum
from django.utils import timezone

from hotapi.api.lookups import get_by_id_or_404
from hotapi.errors import InvalidInput
from projects.selectors import project_get

from .models import Run, RunCounter, RunStatus, RunType, RunVariable

RUN_ORDER = ("-created_at", "-id")
_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
MAX_RANGE_DAYS = 3660


def parse_time_range(value: str | None, now=None):
    """The cutoff for an ISO 8601 duration such as ``P7D`` or ``PT12H`` (``None``, ``""`` and
    ``all`` mean no filter). Invalid or out-of-range values are refused with 400."""
    if value in (None, "", "all"):
        return None
    match = _DURATION.match(value)
    if not match or value in ("P", "PT") or value.endswith("T"):
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
    if bound_days <= 0 or bound_days > MAX_RANGE_DAYS:
        raise InvalidInput(
            f"time_range must be longer than zero and at most {MAX_RANGE_DAYS} days",
            details={"time_range": ["out of range"]},
        )
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
    if value in (None, ""):
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
    return RunVariable.objects.filter(run=run).order_by("sequence")


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


def compute_seconds_this_month(*, environment) -> float:
    month_start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    total = Run.objects.filter(
        environment=environment, created_at__gte=month_start, duration_ms__isnull=False
    ).aggregate(total=Sum("duration_ms"))["total"]
    return (total or 0) / 1000
