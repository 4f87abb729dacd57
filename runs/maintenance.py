"""The runs' periodic work, called by the maintenance loop (``manage.py runmaintenance``):
firing schedules and due retries, reaping expired leases, and the sweep for lost messages.
Each step is safe to run in two loops at once (row locks, unique firings, idempotent routing).
"""

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings

from . import routing, scheduler, services

log = logging.getLogger(__name__)

# A run waiting for a slot this long without being pulled is dispatched by the sweep.
WAITING_GRACE = timedelta(seconds=5)


def work_queue_length() -> int | None:
    """Messages waiting in the work queue, or None when the broker cannot be asked."""
    queue = current_app.conf.task_default_queue
    try:
        with current_app.connection_for_read() as conn:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
    except Exception as exc:
        if "NOT_FOUND" in str(exc):  # Redis: the queue has never held a message
            return 0
        log.info("Could not read the length of queue %s: %s", queue, exc)
        return None


def work_queue_empty() -> bool:
    return work_queue_length() == 0


def tick() -> int:
    """Schedules due now, then retries due now."""
    return scheduler.scheduler_tick() + services.start_due_retries()


def sweep() -> dict:
    """Dispatch what lost its message: events never routed and runs never started. Only while
    the work queue is empty is a missing message certainly lost rather than queued."""
    queue_empty = work_queue_empty()
    events = routing.sweep_undispatched() if queue_empty else 0
    runs = services.dispatch_stalled_runs(
        waiting_for=WAITING_GRACE,
        lost_after=timedelta(seconds=settings.HOT_RUN_REDISPATCH_SECONDS),
        queue_empty=queue_empty,
    )
    return {"events": events, "runs": runs}


def reap() -> int:
    return services.reap_expired_leases()
