"""Background tasks (``::hot::task``): a function started by a run, executed on the workers as
a run of type ``task`` (with that pipeline's claims, lease, reaper, retries and
cancellation), followed here with Hot's task statuses, its inbox and its checkpoint."""

from django.db import models

from hotapi.ids import uuid7


class TaskStatus(models.TextChoices):
    QUEUED = "queued"  # waiting for a worker (also between a failed attempt and its retry)
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


TERMINAL_TASK_STATUSES = (
    TaskStatus.COMPLETED,
    TaskStatus.FAILED,
    TaskStatus.CANCELLED,
    TaskStatus.TIMED_OUT,
)


class Task(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "environments.Environment", on_delete=models.CASCADE, related_name="tasks"
    )
    stream = models.ForeignKey("events.Stream", on_delete=models.CASCADE, related_name="tasks")
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    build = models.ForeignKey(
        "builds.Build", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    origin_run = models.ForeignKey(
        "runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="started_tasks"
    )
    # The run executing the task: its latest attempt.
    run = models.OneToOneField(
        "runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="task"
    )
    function_name = models.CharField(max_length=512, help_text="::ns/var")
    task_type = models.CharField(max_length=32, default="code")
    args = models.JSONField(null=True, blank=True)
    options = models.JSONField(default=dict, blank=True)
    timeout_ms = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=TaskStatus, default=TaskStatus.QUEUED)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    retry_attempt = models.PositiveSmallIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    # What ::hot::task/checkpoint saved last, for restore() after a retry.
    checkpoint = models.JSONField(null=True, blank=True)
    checkpoint_at = models.DateTimeField(null=True, blank=True)
    # The last inbox message receive() handed to the task.
    inbox_cursor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    start_time = models.DateTimeField(null=True, blank=True)
    stop_time = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["environment", "-created_at"], name="task_env_created"),
            models.Index(fields=["stream", "-created_at"], name="task_stream_created"),
        ]

    def __str__(self) -> str:
        return f"{self.function_name} {self.status} ({self.id})"


class TaskMessage(models.Model):
    """A message ``::hot::task/send`` put in a task's inbox; ``receive`` hands them over in
    order (the id is the order)."""

    id = models.BigAutoField(primary_key=True)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="messages")
    payload = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["task", "id"]
        indexes = [models.Index(fields=["task", "id"], name="task_message_order")]

    def __str__(self) -> str:
        return f"{self.task_id} #{self.id}"
