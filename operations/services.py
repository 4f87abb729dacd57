"""Writes of the operations app: worker heartbeats."""

from django.utils import timezone

from .models import WorkerHeartbeat


def worker_heartbeat_record(
    *, name: str, pid: int, concurrency: int, queues: str, started_at
) -> None:
    WorkerHeartbeat.objects.update_or_create(
        name=name,
        defaults={
            "pid": pid,
            "concurrency": concurrency,
            "queues": queues,
            "started_at": started_at,
            "last_seen_at": timezone.now(),
        },
    )


def worker_heartbeat_remove(*, name: str) -> None:
    WorkerHeartbeat.objects.filter(name=name).delete()
