import math
from datetime import UTC, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from hotapi.api.lookups import get_by_id_or_404

from .models import ApiKey, Environment, ServiceKey, Session
from .usage import (
    ACTIVE_SCHEDULES,
    COMPUTE_SECONDS_THIS_MONTH,
    RUNS_THIS_MONTH,
    STORAGE_BYTES,
    usage,
)

UNLIMITED = -1
PLAN_NAME = "Self-Hosted"
WARNING_PERCENT = 90


def _percent(used: float, limit: float) -> int:
    if limit <= 0:
        return 0
    return math.ceil(used * 100 / limit) if used else 0


def environment_quota(*, environment: Environment) -> dict:
    compute = usage(COMPUTE_SECONDS_THIS_MONTH, environment=environment)
    storage = usage(STORAGE_BYTES, environment=environment)
    return {
        "compute_used_percent": _percent(compute, environment.compute_seconds_per_month),
        "storage_used_percent": _percent(storage, environment.storage_limit_bytes),
        "requests_per_hour": environment.requests_per_hour,
        "requests_per_second": environment.requests_per_second,
        "max_concurrent_runs": environment.max_concurrent_runs,
    }


def _exact_percent(used: float, limit: float) -> float:
    return round(used * 100 / limit, 2) if limit > 0 else 0.0


def _billing_period(now: datetime) -> tuple[datetime, datetime]:
    """The calendar month (UTC), as the reference server reports without a subscription."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, (start + timedelta(days=32)).replace(day=1)


def organization_usage(*, environment: Environment) -> dict:
    """What the organization of ``environment`` uses, summed over its environments, against
    the sum of their limits: the numbers of ``/v1/env/quota``, per organization. What this
    service does not have (team members, call traces, the key-value store, run or schedule
    caps) reads 0 used of -1 (unlimited)."""
    environments = list(Environment.objects.filter(organization_id=environment.organization_id))

    def total(resource: str) -> float:
        return sum(usage(resource, environment=each) for each in environments)

    storage, compute = total(STORAGE_BYTES), total(COMPUTE_SECONDS_THIS_MONTH)
    storage_limit = sum(each.storage_limit_bytes for each in environments)
    compute_limit = sum(each.compute_seconds_per_month for each in environments)
    percent = {
        "runs": 0.0,
        "file_storage": _exact_percent(storage, storage_limit),
        "team_members": 0.0,
        "call_storage": 0.0,
        "store_storage": 0.0,
        "active_schedules": 0.0,
        "compute": _exact_percent(compute, compute_limit),
    }
    period_start, period_end = _billing_period(timezone.now())
    return {
        "org_id": environment.organization_id,
        "usage": {
            "runs_this_period": int(total(RUNS_THIS_MONTH)),
            "file_storage_bytes": int(storage),
            "team_members": 0,
            "call_storage_bytes": 0,
            "call_count": 0,
            "store_storage_bytes": 0,
            "active_schedules": int(total(ACTIVE_SCHEDULES)),
        },
        "limits": {
            "runs_per_month": UNLIMITED,
            "storage_bytes": storage_limit,
            "team_members": UNLIMITED,
            "call_retention_days": UNLIMITED,
            "call_storage_bytes": UNLIMITED,
            "store_storage_bytes": UNLIMITED,
            # A compute unit here is one second of run time.
            "compute_units_per_month": compute_limit,
            "compute_units_used": math.ceil(compute),
            "compute_units_budget": UNLIMITED,
            "task_minutes_per_month": UNLIMITED,
            "active_schedules_per_org": UNLIMITED,
        },
        "usage_percent": {
            **percent,
            "has_warning": any(value > WARNING_PERCENT for value in percent.values()),
        },
        "plan": {"name": PLAN_NAME, "period_start": period_start, "period_end": period_end},
    }


def session_list(*, api_key: ApiKey) -> QuerySet[Session]:
    """The active (not revoked, not expired) sessions ``api_key`` issued, newest first."""
    return Session.objects.filter(
        api_key=api_key, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at", "-id")


def session_get(*, api_key: ApiKey, session_id: str) -> Session:
    """A session ``api_key`` issued (revoked and expired ones too); any other is 404."""
    return get_by_id_or_404(
        Session.objects.filter(api_key=api_key), session_id, "Session not found"
    )


def service_key_list(*, api_key: ApiKey) -> QuerySet[ServiceKey]:
    """Every service key ``api_key`` issued, revoked and expired ones too, newest first."""
    return ServiceKey.objects.filter(api_key=api_key).order_by("-created_at", "-id")


def service_key_get(*, api_key: ApiKey, service_key_id: str) -> ServiceKey:
    keys = ServiceKey.objects.filter(api_key=api_key)
    return get_by_id_or_404(keys, service_key_id, "Service key not found")
