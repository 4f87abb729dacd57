"""Celery entry points: load by id, call a service. All are idempotent."""

from datetime import timedelta

from celery import shared_task

from . import execution, routing, scheduler, services


@shared_task(acks_late=True, ignore_result=True)
def route_event(event_id: str) -> list:
    """Create the runs of a published event (idempotent)."""
    return [str(run_id) for run_id in routing.event_route(event_id=event_id, execute_inline=True)]


def dispatch_event_routing(event_id: str) -> None:
    """Registered with ``events.dispatch``: a committed event goes to a worker for routing."""
    route_event.delay(event_id)


@shared_task(acks_late=True, ignore_result=True)
def execute_run(run_id: str) -> str:
    return execution.execute_run(run_id=run_id)


@shared_task(acks_late=True, ignore_result=True)
def scheduler_tick() -> int:
    return scheduler.scheduler_tick()


@shared_task(acks_late=True, ignore_result=True)
def sweep() -> dict:
    """Dispatch events and runs whose messages were lost while the broker was unavailable."""

    return {
        "events": routing.sweep_undispatched(),
        "runs": services.requeue_stalled_runs(older_than=timedelta(seconds=30)),
    }


@shared_task(acks_late=True, ignore_result=True)
def reap_leases() -> int:
    return services.reap_expired_leases()
