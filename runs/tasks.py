"""Celery entry points: load by id, call a service. All are idempotent.

Periodic work (schedules, retries, the sweep, the lease reaper) is not a Celery task: it runs
in the maintenance loop (``manage.py runmaintenance``), so it never waits behind user work.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import execution, routing

# The database was unreachable (deadlocks are retried inside the transaction): try again in a
# moment rather than leave the work to the sweep. Both tasks are safe to repeat.
ON_DATABASE_LOSS = {
    "acks_late": True,
    "ignore_result": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 10,
    "max_retries": 12,
}


@shared_task(**ON_DATABASE_LOSS)
def route_event(event_id: str) -> list:
    """Create the runs of a published event (idempotent)."""
    return [str(run_id) for run_id in routing.event_route(event_id=event_id, execute_inline=True)]


def dispatch_event_routing(event_id: str) -> None:
    """Registered with ``events.dispatch``: a committed event goes to a worker for routing."""
    route_event.delay(event_id)


@shared_task(**ON_DATABASE_LOSS)
def execute_run(run_id: str) -> str:
    return execution.execute_run(run_id=run_id)
