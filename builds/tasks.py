from celery import shared_task

from .services import deploy_execute


@shared_task(acks_late=True, ignore_result=True)
def deploy_build(build_id: str, sequence: int) -> str:
    """Prepare and activate a build; idempotent (a stale or repeated job does nothing)."""
    return deploy_execute(build_id=build_id, sequence=sequence)
