from celery import shared_task
from django.conf import settings


@shared_task(acks_late=True, ignore_result=True)
def route_event(event_id: str) -> list:
    """Create the runs of a published event (idempotent)."""
    from runs.routing import event_route

    return [str(run_id) for run_id in event_route(event_id=event_id, execute_inline=True)]


@shared_task(acks_late=True, ignore_result=True)
def prune_stream_log() -> int:
    """Stream history is kept for HOT_STREAM_RETENTION_DAYS; Last-Event-ID resumes within it."""
    from .streamlog import prune

    return prune(older_than_days=settings.HOT_STREAM_RETENTION_DAYS)
