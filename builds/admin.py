from django.contrib import admin

from hotapi.admin import ConfirmedActionsAdmin, ReadOnlyInline, confirmed_action

from .models import Build, EventHandler, McpTool, Schedule, Webhook
from .services import deploy_request


def _one_build_per_project(queryset) -> str | None:
    projects = list(queryset.values_list("project__name", flat=True))
    repeated = sorted({name for name in projects if projects.count(name) > 1})
    if repeated:
        return (
            "Deploy one build per project at a time (several were selected for "
            f"{', '.join(repeated)}): the last one queued would win."
        )
    return None


class EventHandlerInline(ReadOnlyInline):
    model = EventHandler
    fields = ["event_type", "ns", "var", "once", "file", "line"]


class WebhookInline(ReadOnlyInline):
    model = Webhook
    fields = ["method", "service", "path", "auth", "ns", "var", "url"]
    readonly_fields = fields

    @admin.display(description="URL path (the last segment is the secret token)")
    def url(self, webhook) -> str:
        environment = webhook.build.project.environment
        return webhook.url_path(
            organization=environment.organization.name, environment=environment.name
        )


class McpToolInline(ReadOnlyInline):
    model = McpTool
    fields = ["service", "name", "auth", "ns", "var", "input_schema"]


class ScheduleInline(ReadOnlyInline):
    model = Schedule
    fields = ["cron", "normalized", "ns", "var", "next_fire_at"]


@admin.register(Build)
class BuildAdmin(ConfirmedActionsAdmin):
    """Builds arrive through the upload API. Deploys are confirmed and logged; a build that is
    not deployed may be deleted (its stored file goes with it, builds/signals.py)."""

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
    fields = readonly_fields
    inlines = [EventHandlerInline, ScheduleInline, WebhookInline, McpToolInline]
    actions = ["deploy_builds"]
    object_actions = ("deploy_builds",)

    def has_add_permission(self, request) -> bool:
        return False  # builds arrive through the upload API, where they are checked

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # deploys go through the action, never by editing fields

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.deployed:
            return False  # deploy another build (or deactivate the project) first
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, from the build's own page
        return actions

    @confirmed_action(
        description="Deploy selected builds",
        verb="Deploy queued",
        label="Deploy this build",
        check=_one_build_per_project,
    )
    def deploy_builds(self, request, build: Build, reason: str):
        deploy_request(build=build)
        return
