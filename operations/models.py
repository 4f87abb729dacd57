"""Worker heartbeats: each Celery worker reports here while it runs."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per worker node, refreshed every ``HOT_WORKER_HEARTBEAT_SECONDS``. Readiness
    and the dashboard read it; a worker that stops reporting goes stale (and is removed when
    it shuts down cleanly)."""

    name = models.CharField(max_length=255, unique=True, help_text="Celery node name.")
    pid = models.PositiveIntegerField()
    concurrency = models.PositiveIntegerField(default=0)
    queues = models.CharField(max_length=512, blank=True, default="")
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
