import math

from django.apps import apps
from django.db.models import Sum

from runs.selectors import compute_seconds_this_month

from .models import Environment


def _percent(used: float, limit: float) -> int:
    if limit <= 0:
        return 0
    return math.ceil(used * 100 / limit) if used else 0


def storage_used_bytes(*, environment: Environment) -> int:
    Build = apps.get_model("builds", "Build")
    total = Build.objects.filter(project__environment=environment).aggregate(total=Sum("size"))
    return total["total"] or 0


def environment_quota(*, environment: Environment) -> dict:

    compute = compute_seconds_this_month(environment=environment)
    return {
        "compute_used_percent": _percent(compute, environment.compute_seconds_per_month),
        "storage_used_percent": _percent(
            storage_used_bytes(environment=environment), environment.storage_limit_bytes
        ),
        "requests_per_hour": environment.requests_per_hour,
        "max_concurrent_runs": environment.max_concurrent_runs,
    }
