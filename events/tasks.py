from celery import shared_task
from django.conf import settings

from .streamlog import prune


@shared_task(acks_late=True, ignore_result=True)
def prune_stream_log() -> int:
    """Stream history is kept for HOT_STREAM_RETENTION_DAYS; Last-Event-ID resumes within it."""
    return prune(older_than_days=settings.HOT_STREAM_RETENTION_DAYS)
