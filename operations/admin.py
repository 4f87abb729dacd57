"""The project admin (builds, context keys, recent runs, activation) and the worker list: they
read several apps, so they live in the top layer."""

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from builds.models import Build
from builds.services import project_activate, project_deactivate
from hotapi.admin import ConfirmedActionsAdmin, ReadOnlyAdmin, confirmed_action
from projects.models import Project
from projects.services import project_delete
from runs.admin import run_link, status_badge
from runs.models import Run
from secrets_app.models import ContextVariable

from .models import WorkerHeartbeat

RECENT = 20


def _changelist(model: str, **filters) -> str:
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return reverse(f"admin:{model}_changelist") + (f"?{query}" if query else "")


@admin.register(Project)
class ProjectAdmin(ConfirmedActionsAdmin):
    """Projects are created through the API. Here operators see what a project holds and
    activate, deactivate (through the deploy services) or delete it (as the API does: its
    stored builds go with it)."""

    list_display = ["name", "environment", "active", "build_count", "deployed_build", "created_at"]
    list_filter = ["active", "environment"]
    search_fields = ["name", "id"]
    fields = [
        "id",
        "name",
        "environment",
        "active",
        "deployment_sequence",
        "created_at",
        "builds",
        "context_keys",
        "recent_runs",
    ]
    readonly_fields = fields
    actions = ["activate_projects", "deactivate_projects"]
    object_actions = ("activate_projects", "deactivate_projects")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("environment__organization")
            .annotate(build_total=Count("builds"))
        )

    def has_add_permission(self, request) -> bool:
        return False  # created through the API (name rules, 409 on clashes)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj):
        project_delete(project=obj)

    def delete_queryset(self, request, queryset):
        for project in queryset:
            project_delete(project=project)

    @admin.display(description="Builds", ordering="build_total")
    def build_count(self, project: Project) -> int:
        return project.build_total

    @admin.display(description="Deployed build")
    def deployed_build(self, project: Project) -> str:
        build = Build.objects.filter(project=project, deployed=True).only("id").first()
        if build is None:
            return "—"
        url = reverse("admin:builds_build_change", args=[build.pk])
        return format_html('<a href="{}">{}…</a>', url, str(build.pk)[:8])

    @admin.display(description="Builds (newest first)")
    def builds(self, project: Project) -> str:
        rows = Build.objects.filter(project=project).order_by("-created_at")[:RECENT]
        items = format_html_join(
            "",
            '<li><a href="{}">{}…</a> {} {}{} — {} bytes, {}</li>',
            (
                (
                    reverse("admin:builds_build_change", args=[b.pk]),
                    str(b.pk)[:8],
                    b.build_type,
                    b.runtime_status,
                    " (deployed)" if b.deployed else "",
                    b.size,
                    b.created_at.isoformat(timespec="seconds"),
                )
                for b in rows
            ),
        )
        link = _changelist("builds_build", project__id__exact=project.pk)
        return format_html('<ul>{}</ul><a href="{}">all builds</a>', items, link)

    @admin.display(description="Context keys")
    def context_keys(self, project: Project) -> str:
        keys = ContextVariable.objects.filter(project=project).order_by("key")
        return ", ".join(variable.key for variable in keys) or "—"

    @admin.display(description="Recent runs")
    def recent_runs(self, project: Project) -> str:
        runs = Run.objects.filter(project=project).order_by("-created_at")[:RECENT]
        items = format_html_join(
            "",
            "<li>{} {} {} {}</li>",
            (
                (
                    run_link(run.id),
                    status_badge(run.status),
                    run.function,
                    run.created_at.isoformat(timespec="seconds"),
                )
                for run in runs
            ),
        )
        link = _changelist("runs_run", project__id__exact=project.pk)
        return format_html('<ul>{}</ul><a href="{}">all runs</a>', items, link)

    @confirmed_action(
        description="Activate selected projects (redeploys the latest build)",
        verb="Activated",
        label="Activate",
    )
    def activate_projects(self, request, project: Project, reason: str):
        project_activate(project=project)
        return

    @confirmed_action(
        description="Deactivate selected projects (undeploys their builds)",
        verb="Deactivated",
        label="Deactivate",
    )
    def deactivate_projects(self, request, project: Project, reason: str):
        if not project.active:
            return "already inactive"
        project_deactivate(project=project)
        return None


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "pid", "concurrency", "queues", "started_at", "last_seen_at"]
    fields = list_display
