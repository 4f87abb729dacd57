from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from events.models import StreamEntry
from hotapi.admin import ReadOnlyAdmin, ReadOnlyInline
from hotapi.errors import Conflict

from .models import Run, RunLog, RunVariable
from .services import run_cancel


class RunVariableInline(ReadOnlyInline):
    model = RunVariable
    fields = ["sequence", "ns", "var", "value", "start_time", "stop_time"]


class RunLogInline(ReadOnlyInline):
    model = RunLog
    fields = ("sequence", "time", "level", "message")


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    """Runs are never deleted here: their status counters and streams must stay consistent."""

    list_display = ["id", "function", "run_type", "status", "project", "created_at", "duration_ms"]
    list_filter = ["status", "run_type", "environment"]
    search_fields = ["id", "function", "event__id", "project__name"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "environment",
        "project",
        "build",
        "stream",
        "event",
        "origin_run",
        "run_type",
        "status",
        "function",
        "args",
        "result",
        "error",
        "created_at",
        "start_time",
        "stop_time",
        "duration_ms",
        "worker",
        "lease_expires_at",
        "cancel_requested",
        "stream_output",
    ]
    fields = readonly_fields
    inlines = [RunVariableInline, RunLogInline]
    actions = ["cancel_runs"]

    @admin.display(description="Stream")
    def stream_output(self, run: Run):
        entries = StreamEntry.objects.filter(run_id=run.id).order_by("id")[:200]
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "", "<li><code>{}</code> {}</li>", ((e.kind, e.payload) for e in entries)
            ),
        )

    @admin.action(description="Cancel selected runs")
    def cancel_runs(self, request, queryset):
        cancelled = 0
        for run in queryset:
            try:
                run_cancel(run=run)
                cancelled += 1
            except Conflict:
                continue  # already finished
        self.message_user(
            request, f"Cancellation requested for {cancelled} run(s).", messages.SUCCESS
        )
