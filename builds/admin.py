from django.contrib import admin, messages

from hotapi.admin import ReadOnlyInline

from .models import Build, EventHandler, Schedule
from .services import deploy_request


class EventHandlerInline(ReadOnlyInline):
    model = EventHandler
    fields = ["event_type", "ns", "var", "once", "file", "line"]


class ScheduleInline(ReadOnlyInline):
    model = Schedule
    fields = ["cron", "normalized", "ns", "var", "next_fire_at"]


@admin.register(Build)
class BuildAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "build_type",
        "deployed",
        "runtime_status",
        "size",
        "created_at",
    ]
    list_filter = ["runtime_status", "deployed", "build_type", "project__environment"]
    search_fields = ["id", "project__name", "hash", "sha256"]
    readonly_fields = [
        "id",
        "project",
        "hash",
        "sha256",
        "bundle_hash",
        "size",
        "build_type",
        "storage_key",
        "storage_backend",
        "deployed",
        "runtime_status",
        "runtime_error",
        "runtime_warnings",
        "deployment_sequence",
        "engine_version",
        "inspection",
        "created_at",
        "updated_at",
        "deployed_at",
    ]
    fields = ["active", *readonly_fields]
    inlines = [EventHandlerInline, ScheduleInline]
    actions = ["deploy_builds"]

    def has_add_permission(self, request) -> bool:
        return False  # builds arrive through the upload API, where they are checked

    @admin.action(description="Deploy selected builds")
    def deploy_builds(self, request, queryset):
        for build in queryset:
            deploy_request(build=build)
        self.message_user(request, f"Queued {queryset.count()} deploy(s).", messages.SUCCESS)
