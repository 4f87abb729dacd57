"""Reads for operators across the apps: the dashboard and the state behind ``/metrics``."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from builds.models import Build
from environments.models import Environment
from environments.selectors import environment_quota
from environments.usage import COMPUTE_SECONDS_THIS_MONTH, STORAGE_BYTES, usage
from hotapi.api.throttling import requests_this_hour
from runs.models import Run, RunCounter, RunStatus

from .models import WorkerHeartbeat

TOP_FAILING = 10


def runs_by_status() -> dict[str, int]:
    """Every environment's runs per status, from the counters."""
    totals = dict.fromkeys(RunStatus.values, 0)
    for row in RunCounter.objects.values("status").annotate(total=Sum("count")):
        totals[row["status"]] = row["total"]
    return totals


def runs_by_environment_and_status() -> list[tuple[str, str, int]]:
    rows = (
        RunCounter.objects.values("environment__organization__name", "environment__name", "status")
        .annotate(total=Sum("count"))
        .order_by("environment__organization__name", "environment__name", "status")
    )
    return [
        (
            f"{row['environment__organization__name']}/{row['environment__name']}",
            row["status"],
            row["total"],
        )
        for row in rows
    ]


def builds_by_runtime_status() -> dict[str, int]:
    rows = Build.objects.values("runtime_status").annotate(total=Count("id"))
    return {row["runtime_status"]: row["total"] for row in rows}


def failures_per_hour(*, hours: int = 24, now=None) -> list[tuple]:
    """``(hour, failed runs created in it)`` for each of the last ``hours`` hours, oldest first,
    zeros included."""
    now = now or timezone.now()
    current = now.replace(minute=0, second=0, microsecond=0)
    first = current - timedelta(hours=hours - 1)
    counts = {
        row["hour"]: row["total"]
        for row in Run.objects.filter(status=RunStatus.FAILED, created_at__gte=first)
        .annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(total=Count("id"))
    }
    return [
        (first + timedelta(hours=i), counts.get(first + timedelta(hours=i), 0))
        for i in range(hours)
    ]


def top_failing_functions(*, hours: int = 24, limit: int = TOP_FAILING) -> list[dict]:
    since = timezone.now() - timedelta(hours=hours)
    return list(
        Run.objects.filter(status=RunStatus.FAILED, created_at__gte=since)
        .values("function", "project__name")
        .annotate(failures=Count("id"))
        .order_by("-failures", "function")[:limit]
    )


def queued_runs(*, limit: int = 10) -> dict:
    waiting = Run.objects.filter(status=RunStatus.QUEUED)
    oldest = waiting.aggregate(oldest=Min("created_at"))["oldest"]
    return {
        "count": runs_by_status()[RunStatus.QUEUED],
        "oldest_created_at": oldest,
        "oldest": list(waiting.select_related("project").order_by("created_at")[:limit]),
    }


def worker_heartbeats() -> list[dict]:
    now = timezone.now()
    stale_after = settings.HOT_READY_WORKER_MAX_AGE_SECONDS
    return [
        {
            "worker": worker,
            "age_seconds": (now - worker.last_seen_at).total_seconds(),
            "fresh": (now - worker.last_seen_at).total_seconds() <= stale_after,
        }
        for worker in WorkerHeartbeat.objects.all()
    ]


def fresh_workers() -> int:
    since = timezone.now() - timedelta(seconds=settings.HOT_READY_WORKER_MAX_AGE_SECONDS)
    return WorkerHeartbeat.objects.filter(last_seen_at__gte=since).count()


def quota_use() -> list[dict]:
    """Each active environment's use beside its limits."""
    rows = []
    for environment in Environment.objects.filter(active=True).select_related("organization"):
        rows.append(
            {
                "environment": environment,
                "quota": environment_quota(environment=environment),
                "requests_this_hour": requests_this_hour(environment.pk),
                "storage_bytes": usage(STORAGE_BYTES, environment=environment),
                "compute_seconds": usage(COMPUTE_SECONDS_THIS_MONTH, environment=environment),
                "running": RunCounter.objects.filter(
                    environment=environment, status=RunStatus.RUNNING
                ).aggregate(total=Sum("count"))["total"]
                or 0,
            }
        )
    return rows
