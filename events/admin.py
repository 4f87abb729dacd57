from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from hotapi.admin import ReadOnlyAdmin

from .models import Event, StreamEntry


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["event_type", "environment", "event_time", "dispatched_at", "handled_runs"]
    list_filter = ["environment", "event_type"]
    search_fields = ["id", "event_type", "stream__id"]
    date_hierarchy = "event_time"
    readonly_fields = [
        "id",
        "environment",
        "stream",
        "event_type",
        "event_data",
        "event_time",
        "created_at",
        "origin_run",
        "dispatched_at",
        "handled_runs",
        "runs",
    ]
    fields = readonly_fields

    @admin.display(description="Runs")
    def runs(self, event: Event) -> str:
        # A link, not a query: the runs app sits above this one.
        url = reverse("admin:runs_run_changelist") + f"?event__id__exact={event.pk}"
        return format_html('<a href="{}">the runs of this event ({})</a>', url, event.handled_runs)


@admin.register(StreamEntry)
class StreamEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "stream", "run_id", "created_at"]
    list_filter = ["kind", "environment"]
    search_fields = ["stream__id", "run_id"]
    fields = ["id", "environment", "stream", "kind", "run_id", "payload", "created_at"]
