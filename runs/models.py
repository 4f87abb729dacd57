"""Runs (one execution of a Hot function), their captured variables, status counters and
schedule firings."""

from django.db import models
from django.db.models import Q

from hotapi.ids import uuid7


class RunType(models.TextChoices):
    CALL = "call"
    EVENT = "event"
    SCHEDULE = "schedule"
    RUN = "run"
    EVAL = "eval"
    REPL = "repl"
    # A background task's execution (``::hot::task/start``, the ``tasks`` app). Not in run
    # lists unless asked for (``type=task``) nor in the run stats, as in Hot.
    TASK = "task"


class RunStatus(models.TextChoices):
    QUEUED = "queued"  # waiting for a worker slot (max_concurrent_runs)
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PENDING_RETRY = "pending_retry"  # failed; a new attempt starts at next_retry_at


TERMINAL_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class Run(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "environments.Environment", on_delete=models.CASCADE, related_name="runs"
    )
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    build = models.ForeignKey(
        "builds.Build", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    stream = models.ForeignKey("events.Stream", on_delete=models.CASCADE, related_name="runs")
    event = models.ForeignKey(
        "events.Event", null=True, blank=True, on_delete=models.CASCADE, related_name="runs"
    )
    origin_run = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="derived_runs"
    )
    # Routing writes each (event, route) once: a repeated dispatch can never duplicate a run.
    route_key = models.CharField(max_length=80)
    run_type = models.CharField(max_length=16, choices=RunType)
    status = models.CharField(max_length=16, choices=RunStatus, default=RunStatus.QUEUED)
    function = models.CharField(max_length=512, help_text="::ns/var")
    args = models.JSONField(default=list, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    start_time = models.DateTimeField(null=True, blank=True)
    stop_time = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveBigIntegerField(null=True, blank=True)
    # When the run's one broker message was sent; None while no message is out for it (not
    # sent yet, or consumed while the environment had no free slot: it then waits to be pulled).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True, default="")
    cancel_requested = models.BooleanField(default=False)
    # Retries (Hot's ``meta {retry: ...}``): the policy is copied from the handler when the run
    # is created, so later attempts do not depend on what is deployed by then.
    retry_policy = models.JSONField(null=True, blank=True)
    retry_attempt = models.PositiveSmallIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "route_key"],
                condition=Q(event__isnull=False),
                name="one_run_per_event_route",
            )
        ]
        indexes = [
            models.Index(fields=["environment", "-created_at"], name="run_env_created"),
            models.Index(fields=["environment", "status", "-created_at"], name="run_env_status"),
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status="running"),
                name="run_running_lease",
            ),
            models.Index(
                fields=["environment", "created_at"],
                condition=Q(status="queued"),
                name="run_queued",
            ),
            models.Index(
                fields=["next_retry_at"],
                condition=Q(status="pending_retry"),
                name="run_retry_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.function} {self.status} ({self.id})"


class RunVariable(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="variables")
    sequence = models.PositiveIntegerField()
    ns = models.CharField(max_length=512)
    var = models.CharField(max_length=512)
    value = models.JSONField(null=True)
    meta = models.JSONField(default=dict, blank=True)
    start_time = models.DateTimeField()
    stop_time = models.DateTimeField()

    class Meta:
        ordering = ["run", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["run", "sequence"], name="uniq_run_var_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.ns}/{self.var}"


class RunCounter(models.Model):
    """Runs per status, kept in step with every status change, so stats never count the run
    table. Each (environment, status) is split over a few slots to spread row-lock contention."""

    environment = models.ForeignKey("environments.Environment", on_delete=models.CASCADE)
    status = models.CharField(max_length=16, choices=RunStatus)
    slot = models.PositiveSmallIntegerField()
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "status", "slot"], name="uniq_run_counter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.status}[{self.slot}]={self.count}"


class ScheduleFire(models.Model):
    """One firing of a schedule at one due time; unique so two schedulers fire it once."""

    schedule = models.ForeignKey("builds.Schedule", on_delete=models.CASCADE, related_name="fires")
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField(auto_now_add=True)
    run = models.ForeignKey(Run, null=True, on_delete=models.SET_NULL)
    # Not run: the previous run was still going and the schedule's overlap policy is "skip".
    skipped = models.BooleanField(default=False)
    triggered = models.BooleanField(default=False, help_text="Fired on request (trigger now).")

    class Meta:
        indexes = [models.Index(fields=["schedule", "-fired_at"], name="schedule_fire_latest")]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "due_at"], name="uniq_schedule_fire")
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id}@{self.due_at}"


class RunLog(models.Model):
    """One line of a run's log: printed output (`println`, `print`, ...) or the runtime's own
    line (an HTTP request, a TCP connection), in order, with secret values masked."""

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="logs")
    sequence = models.PositiveIntegerField()
    time = models.DateTimeField()
    level = models.CharField(max_length=8, default="info")
    message = models.TextField()

    class Meta:
        ordering = ["run", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["run", "sequence"], name="uniq_run_log_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.run_id} #{self.sequence}"
