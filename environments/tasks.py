from celery import shared_task

from .services import sessions_prune


@shared_task(acks_late=True, ignore_result=True)
def prune_sessions() -> int:
    """Expired and revoked sessions are deleted after HOT_SESSION_RETENTION_DAYS."""
    return sessions_prune()
