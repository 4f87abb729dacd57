import math

from .models import Environment
from .usage import COMPUTE_SECONDS_THIS_MONTH, STORAGE_BYTES, usage


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
