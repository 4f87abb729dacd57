"""``/metrics``: what the processes observed (``hotapi.metrics``) plus the state read from the
database and the broker when Prometheus scrapes."""

import logging

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from . import selectors

log = logging.getLogger(__name__)


def broker_queue_messages() -> int | None:
    """Messages waiting in the task queue (None when the broker cannot say)."""
    from hotapi.celery import app

    try:
        with app.connection_for_read() as conn:
            declared = conn.default_channel.queue_declare(
                queue=settings.CELERY_TASK_DEFAULT_QUEUE, passive=True
            )
            return declared.message_count
    except Exception:
        log.warning("Could not read the broker's queue length", exc_info=True)
        return None


class StateCollector:
    """Gauges computed at scrape time, exact whichever process changed the state."""

    def collect(self):
        runs = GaugeMetricFamily(
            "hot_runs",
            "Runs per environment and status (from the counters).",
            labels=["environment", "status"],
        )
        for environment, status, total in selectors.runs_by_environment_and_status():
            runs.add_metric([environment, status], total)
        yield runs
        queued = selectors.runs_by_status()["queued"]
        yield GaugeMetricFamily("hot_runs_queued", "Runs waiting for a worker slot.", value=queued)
        builds = GaugeMetricFamily(
            "hot_builds", "Builds per runtime status.", labels=["runtime_status"]
        )
        for status, total in selectors.builds_by_runtime_status().items():
            builds.add_metric([status], total)
        yield builds
        yield GaugeMetricFamily(
            "hot_workers", "Workers with a recent heartbeat.", value=selectors.fresh_workers()
        )
        messages = broker_queue_messages()
        if messages is not None:
            yield GaugeMetricFamily(
                "hot_broker_queue_messages",
                "Task messages waiting in the broker queue.",
                value=messages,
            )


_state = StateCollector()


def scrape() -> tuple[bytes, str]:
    """The exposition text: observed metrics (every process's with a multiprocess folder,
    else this process's) followed by the state gauges."""
    state = CollectorRegistry()
    state.register(_state)
    if settings.PROMETHEUS_MULTIPROC_DIR:
        observed = CollectorRegistry()
        multiprocess.MultiProcessCollector(observed)
    else:
        observed = REGISTRY
    return generate_latest(observed) + generate_latest(state), CONTENT_TYPE_LATEST
