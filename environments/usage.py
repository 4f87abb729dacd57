"""What an environment uses, measured by the apps that own the resources.

The environment is the tenancy root: every other app depends on it, so it cannot ask them.
Instead each app registers a meter for what it stores or spends (``RunsConfig.ready()``
registers compute time and runs, ``BuildsConfig.ready()`` build storage and active
schedules), and the quota and the organization's usage add up the meters of each resource.
"""

from collections import defaultdict
from collections.abc import Callable

COMPUTE_SECONDS_THIS_MONTH = "compute_seconds_this_month"
STORAGE_BYTES = "storage_bytes"
RUNS_THIS_MONTH = "runs_this_month"
ACTIVE_SCHEDULES = "active_schedules"

Meter = Callable[..., float]  # meter(environment=...) -> amount used

_meters: dict[str, list[Meter]] = defaultdict(list)


def register_meter(resource: str, meter: Meter) -> None:
    """Count ``meter`` towards ``resource``; registering it twice has no effect."""
    if meter not in _meters[resource]:
        _meters[resource].append(meter)


def usage(resource: str, *, environment) -> float:
    return sum(meter(environment=environment) for meter in _meters[resource])
