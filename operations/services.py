"""Writes of the operations app: worker heartbeats."""

from datetime import timedelta

from django.utils import timezone

from .models import WorkerHeartbeat

# A worker that was killed never removes its row; after this long the row is dropped.
FORGET_SILENT_WORKERS_AFTER = timedelta(days=1)


def worker_heartbeat_record(
    *, name: str, pid: int, concurrency: int, queues: str, started_at
) -> None:
    WorkerHeartbeat.objects.filter(
        last_seen_at__lt=timezone.now() - FORGET_SILENT_WORKERS_AFTER
    ).delete()
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
