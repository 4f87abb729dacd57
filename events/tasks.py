from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def route_event(event_id: str) -> list:
    """Create the runs of a published event (idempotent)."""
    from runs.routing import event_route

    return [str(run_id) for run_id in event_route(event_id=event_id)]
