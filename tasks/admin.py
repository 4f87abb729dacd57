"""Operators browse tasks (status, input and output, the run executing them, the inbox,
the checkpoint) and cancel them."""

from django.contrib import admin
from django.utils.html import format_html

from hotapi.admin import ConfirmedActionsAdmin, ReadOnlyAdmin, ReadOnlyInline, confirmed_action
from runs.admin import pretty_json, run_link, status_badge

from .models import Task, TaskMessage
from .services import task_cancel


class TaskMessageInline(ReadOnlyInline):
    model = TaskMessage
    fields = ["id", "created_at", "payload_json"]

    @admin.display(description="Payload")
    def payload_json(self, message: TaskMessage) -> str:
        return pretty_json(message.payload)


@admin.register(Task)
class TaskAdmin(ConfirmedActionsAdmin, ReadOnlyAdmin):
    list_display = [
        "short_id",
        "function_name",
        "task_status",
        "retry_attempt",
        "project",
        "created_at",
        "duration_ms",
    ]
    list_select_related = ["project"]
    list_filter = ["status", "task_type", "environment", "project"]
    search_fields = ["id", "function_name", "run__id", "origin_run__id", "stream__id"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "task_status",
        "function_name",
        "task_type",
        "environment",
        "project",
        "build",
        "stream",
        "runs",
        "timeout_ms",
        "retry_attempt",
        "next_retry_at",
        "created_at",
        "start_time",
        "stop_time",
        "duration_ms",
        "args_json",
        "result_json",
        "error",
        "checkpoint_json",
        "checkpoint_at",
    ]
    inlines = [TaskMessageInline]
    actions = ["cancel_tasks"]
    object_actions = ("cancel_tasks",)

    @admin.display(description="Task", ordering="id")
    def short_id(self, task: Task) -> str:
        return str(task.id)[:8] + "…"

    @admin.display(description="Status", ordering="status")
    def task_status(self, task: Task) -> str:
        return status_badge(task.status)

    @admin.display(description="Runs")
    def runs(self, task: Task) -> str:
        executing = run_link(task.run_id, "executing run") if task.run_id else "not started"
        started_by = run_link(task.origin_run_id, "started by") if task.origin_run_id else ""
        return format_html("{} · {}", executing, started_by) if started_by else executing

    @admin.display(description="Arguments")
    def args_json(self, task: Task) -> str:
        return pretty_json(task.args)

    @admin.display(description="Result")
    def result_json(self, task: Task) -> str:
        return pretty_json(task.result)

    @admin.display(description="Checkpoint")
    def checkpoint_json(self, task: Task) -> str:
        return pretty_json(task.checkpoint)

    @confirmed_action(
        description="Cancel selected tasks", verb="Cancellation requested", label="Cancel task"
    )
    def cancel_tasks(self, request, task: Task, reason: str):
        if not task_cancel(task=task):
            return f"already {task.status}"
        return None
