"""Streams, events, and the durable stream log that every SSE endpoint tails."""

from django.db import models
from django.db.models import Q

from hotapi.ids import uuid7


class Stream(models.Model):
    """A channel that groups an event with the runs (and their output) it causes."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "environments.Environment", on_delete=models.CASCADE, related_name="streams"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.id)


class Event(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "environments.Environment", on_delete=models.CASCADE, related_name="events"
    )
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=255)
    event_data = models.JSONField(null=True, blank=True)
    event_time = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    origin_run = models.ForeignKey(
        "runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="sent_events"
    )
    # Routing is done once, after commit; the sweep re-dispatches events still undispatched.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    handled_runs = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-event_time", "-id"]
        indexes = [
            models.Index(fields=["environment", "-event_time"], name="event_env_time"),
            models.Index(
                fields=["created_at"],
                condition=Q(dispatched_at__isnull=True),
                name="event_undispatched",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} ({self.id})"


class StreamEntry(models.Model):
    """One observable change on a stream. The primary key is the SSE ``id:``: it only grows,
    and readers deliver entries in id order (see events/hub.py)."""

    id = models.BigAutoField(primary_key=True)
    environment = models.ForeignKey("environments.Environment", on_delete=models.CASCADE)
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=32)  # run:start, run:stop, stream:data, event:created …
    run_id = models.UUIDField(null=True, blank=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["stream", "id"], name="entry_stream_id"),
            models.Index(fields=["environment", "id"], name="entry_env_id"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.kind}"
