"""What the admin's overview page shows: is it healthy, what is failing, since when."""

from django.conf import settings
from django.utils import timezone

from environments.models import GIB

from . import selectors

CHART_BAR_WIDTH = 22
CHART_HEIGHT = 120


def failure_chart(hours: list[tuple]) -> dict:
    """Bars for failures per hour, scaled to the busiest hour (an inline SVG, no script)."""
    peak = max((count for _, count in hours), default=0)
    bars = []
    for index, (hour, count) in enumerate(hours):
        height = round(count * (CHART_HEIGHT - 20) / peak) if peak else 0
        bars.append(
            {
                "x": index * CHART_BAR_WIDTH,
                "y": CHART_HEIGHT - 20 - height,
                "height": height,
                "count": count,
                "label": hour.strftime("%H:00"),
                "show_label": index % 6 == 0,
            }
        )
    return {
        "bars": bars,
        "peak": peak,
        "total": sum(count for _, count in hours),
        "width": len(hours) * CHART_BAR_WIDTH,
        "height": CHART_HEIGHT,
        "bar_width": CHART_BAR_WIDTH - 4,
        "label_y": CHART_HEIGHT - 5,
    }


def _quota_rows() -> list[dict]:
    rows = []
    for row in selectors.quota_use():
        environment = row["environment"]
        rows.append(
            {
                "environment": environment,
                "requests": f"{row['requests_this_hour']:,} of {environment.requests_per_hour:,}",
                "running": f"{row['running']} of {environment.max_concurrent_runs}",
                "storage": (
                    f"{row['storage_bytes'] / GIB:.2f} of "
                    f"{environment.storage_limit_bytes / GIB:.2f} GiB "
                    f"({row['quota']['storage_used_percent']}%)"
                ),
                "compute": (
                    f"{row['compute_seconds']:,.0f} of {environment.compute_seconds_per_month:,} s "
                    f"({row['quota']['compute_used_percent']}%)"
                ),
            }
        )
    return rows


def overview() -> dict:
    by_status = selectors.runs_by_status()
    return {
        "generated_at": timezone.now(),
        "runs_by_status": by_status,
        "runs_total": sum(by_status.values()),
        "failures": failure_chart(selectors.failures_per_hour(hours=24)),
        "top_failing": selectors.top_failing_functions(hours=24),
        "queued": selectors.queued_runs(),
        "workers": selectors.worker_heartbeats(),
        "worker_max_age": settings.HOT_READY_WORKER_MAX_AGE_SECONDS,
        "quotas": _quota_rows(),
    }
