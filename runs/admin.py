"""Operators browse runs (timeline, input and output, stream, chain of events and runs) and
cancel them; runs are never deleted here (D23)."""

import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from builds.models import Schedule
from events.models import StreamEntry
from hotapi.admin import ConfirmedActionsAdmin, ReadOnlyAdmin, ReadOnlyInline, confirmed_action
from hotapi.errors import Conflict, DomainError

from . import selectors
from .models import Run, RunLog, RunStatus, RunVariable, ScheduleFire
from .schedules import schedule_pause, schedule_resume, schedule_trigger
from .serializers import EnvironmentScheduleSerializer
from .services import run_cancel

STREAM_SHOWN = 200
STATUS_COLOURS = {
    RunStatus.QUEUED: "#6c757d",
    RunStatus.RUNNING: "#0d6efd",
    RunStatus.SUCCEEDED: "#198754",
    RunStatus.FAILED: "#dc3545",
    RunStatus.CANCELLED: "#b58105",
}


def pretty_json(value) -> str:
    return format_html(
        '<pre class="hot-json">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False)
    )


def status_badge(status: str) -> str:
    return format_html(
        '<span class="hot-status hot-status-{}" style="background:{};color:#fff;'
        'padding:1px 8px;border-radius:9px;font-size:0.85em">{}</span>',
        status,
        STATUS_COLOURS.get(status, "#6c757d"),
        status,
    )


def run_link(run_id, text=None) -> str:
    url = reverse("admin:runs_run_change", args=[run_id])
    return format_html('<a href="{}">{}</a>', url, text or str(run_id)[:8] + "…")


class RunVariableInline(ReadOnlyInline):
    model = RunVariable
    fields = ["sequence", "ns", "var", "value_json", "start_time", "stop_time"]

    @admin.display(description="Value")
    def value_json(self, variable: RunVariable) -> str:
        return pretty_json(variable.value)


class RunLogInline(ReadOnlyInline):
    model = RunLog
    fields = ("sequence", "time", "level", "message")


@admin.register(Run)
class RunAdmin(ConfirmedActionsAdmin, ReadOnlyAdmin):
    """Runs are never deleted here: their status counters and streams must stay consistent."""

    list_display = [
        "short_id",
        "function",
        "status_badge",
        "run_type",
        "event_type",
        "project",
        "created_at",
        "duration_ms",
    ]
    list_select_related = ["project", "event"]
    list_filter = ["status", "run_type", "environment", "project"]
    search_fields = ["id", "function", "event__id", "project__name", "build__id"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["id", "status_badge", "function", "run_type", "timeline"]}),
        ("Where", {"fields": ["environment", "project", "build", "worker", "chain"]}),
        ("Input and output", {"fields": ["args_json", "result_json", "error"]}),
        ("Stream", {"fields": ["stream_output"]}),
    ]
    readonly_fields = [
        "id",
        "status_badge",
        "function",
        "run_type",
        "timeline",
        "environment",
        "project",
        "build",
        "worker",
        "chain",
        "args_json",
        "result_json",
        "error",
        "stream_output",
    ]
    inlines = [RunVariableInline, RunLogInline]
    actions = ["cancel_runs"]
    object_actions = ("cancel_runs",)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields

    @admin.display(description="Run", ordering="id")
    def short_id(self, run: Run) -> str:
        return str(run.id)[:8] + "…"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, run: Run) -> str:
        return status_badge(run.status)

    @admin.display(description="Event")
    def event_type(self, run: Run) -> str:
        return run.event.event_type if run.event else "—"

    @admin.display(description="Timeline")
    def timeline(self, run: Run) -> str:
        steps = [("created", run.created_at), ("enqueued", run.enqueued_at)]
        steps += [("started", run.start_time), (run.status, run.stop_time)]
        shown = [(name, moment) for name, moment in steps if moment is not None]
        rows = []
        for index, (name, moment) in enumerate(shown):
            after = ""
            if index:
                elapsed = (moment - shown[index - 1][1]).total_seconds() * 1000
                after = f"+{elapsed:,.0f} ms"
            rows.append((name, moment.isoformat(timespec="milliseconds"), after))
        if run.status == RunStatus.RUNNING and run.lease_expires_at:
            rows.append(("lease until", run.lease_expires_at.isoformat(timespec="seconds"), ""))
        return format_html(
            '<table class="hot-timeline">{}</table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="Chain")
    def chain(self, run: Run) -> str:
        """Event → this run → the events it sent → the runs those caused; reruns too."""
        parts = []
        if run.event_id:
            url = reverse("admin:events_event_change", args=[run.event_id])
            parts.append(
                format_html(
                    'caused by event <a href="{}">{}</a>',
                    url,
                    run.event.event_type if run.event else run.event_id,
                )
            )
        if run.origin_run_id:
            parts.append(format_html("derived from run {}", run_link(run.origin_run_id)))
        derived = Run.objects.filter(origin_run=run).only("id", "function", "status")[:50]
        caused = Run.objects.filter(event__origin_run=run).only("id", "function", "status")[:50]
        for label, runs in (("re-runs", derived), ("runs of events it sent", caused)):
            if runs:
                parts.append(
                    format_html(
                        "{}: {}",
                        label,
                        format_html_join(
                            ", ", "{} {} {}", ((run_link(r.id), r.function, r.status) for r in runs)
                        ),
                    )
                )
        return format_html_join("", "<div>{}</div>", ((part,) for part in parts)) or "—"

    @admin.display(description="Arguments")
    def args_json(self, run: Run) -> str:
        return pretty_json(run.args)

    @admin.display(description="Result")
    def result_json(self, run: Run) -> str:
        return pretty_json(run.result)

    @admin.display(description="Stream")
    def stream_output(self, run: Run) -> str:
        entries = StreamEntry.objects.filter(run_id=run.id).order_by("id")
        total = entries.count()
        shown = entries[:STREAM_SHOWN]
        note = f"showing {min(total, STREAM_SHOWN)} of {total} entries"
        items = format_html_join(
            "",
            "<li><code>{}</code> <small>{}</small>{}</li>",
            (
                (e.kind, e.created_at.isoformat(timespec="milliseconds"), pretty_json(e.payload))
                for e in shown
            ),
        )
        return format_html('<p>{}</p><ol class="hot-stream">{}</ol>', note, items)

    @confirmed_action(
        description="Cancel selected runs", verb="Cancellation requested", label="Cancel run"
    )
    def cancel_runs(self, request, run: Run, reason: str):
        try:
            run_cancel(run=run)
        except Conflict as exc:  # already finished
            return exc.message
        return None


class ScheduleFireInline(ReadOnlyInline):
    model = ScheduleFire
    fields = ["due_at", "fired_at", "run_link", "skipped", "triggered"]
    ordering = ["-fired_at"]

    @admin.display(description="Run")
    def run_link(self, fire: ScheduleFire) -> str:
        return run_link(fire.run_id) if fire.run_id else "—"


@admin.register(Schedule)
class ScheduleAdmin(ConfirmedActionsAdmin, ReadOnlyAdmin):
    """The environment's schedules as ``/v1/schedules`` shows them: declared by the deployed
    builds, or created by Hot code; paused, resumed and triggered as through the API."""

    list_display = [
        "function",
        "kind",
        "project",
        "when",
        "timezone",
        "overlap",
        "state",
        "next_fire_at",
        "last_run",
    ]
    list_select_related = ["project"]
    list_filter = ["kind", "status", "paused", "overlap", "project__environment", "project"]
    search_fields = ["id", "ns", "var", "project__name"]
    fields = [
        "id",
        "kind",
        "project",
        "build",
        "function",
        "cron",
        "normalized",
        "run_at",
        "timezone",
        "overlap",
        "state",
        "next_fire_at",
        "args",
        "meta",
        "origin_run_id",
        "created_at",
    ]
    inlines = [ScheduleFireInline]
    actions = ["pause_schedules", "resume_schedules", "trigger_schedules"]
    object_actions = ("pause_schedules", "resume_schedules", "trigger_schedules")

    def get_queryset(self, request):
        return selectors.schedule_rows().select_related("build")

    @admin.display(description="Schedule")
    def when(self, schedule: Schedule) -> str:
        return schedule.cron or f"once at {schedule.run_at:%Y-%m-%d %H:%M:%S} UTC"

    @admin.display(description="State")
    def state(self, schedule: Schedule) -> str:
        return EnvironmentScheduleSerializer().get_state(schedule)

    @admin.display(description="Last run")
    def last_run(self, schedule: Schedule) -> str:
        if schedule.last_run_id is None:
            return "—"
        return format_html(
            "{} {}", run_link(schedule.last_run_id), status_badge(schedule.last_run_status)
        )

    @staticmethod
    def _do(service, schedule: Schedule):
        try:
            service(schedule=schedule)
        except DomainError as exc:  # cancelled, completed or no longer deployed
            return exc.message
        return None

    @confirmed_action(description="Pause selected schedules", verb="Paused", label="Pause")
    def pause_schedules(self, request, schedule: Schedule, reason: str):
        return self._do(schedule_pause, schedule)

    @confirmed_action(description="Resume selected schedules", verb="Resumed", label="Resume")
    def resume_schedules(self, request, schedule: Schedule, reason: str):
        return self._do(schedule_resume, schedule)

    @confirmed_action(
        description="Trigger selected schedules now", verb="Triggered", label="Trigger now"
    )
    def trigger_schedules(self, request, schedule: Schedule, reason: str):
        return self._do(schedule_trigger, schedule)
