"""Writes on projects: create, rename, delete, activate, deactivate."""

from django.db import IntegrityError, transaction

from hotapi.errors import Conflict

from .models import Project


def _name_conflict(name: str) -> Conflict:
    return Conflict(f"A project named '{name}' already exists in this environment")


def project_create(*, environment, name: str) -> tuple[Project, bool]:
    """(project, created). Creating a project that exists returns it, reactivated if it was
    inactive, as the reference server does: the `hot` CLI creates its project before every
    deploy. Reactivation sets the flag only; its builds are deployed by the next deploy."""
    try:
        with transaction.atomic():
            return Project.objects.create(environment=environment, name=name), True
    except IntegrityError:  # exists (or was created concurrently)
        project = Project.objects.get(environment=environment, name=name)
    if not project.active:
        project = project_set_active(project=project, active=True)
    return project, False


def project_rename(*, project: Project, name: str) -> Project:
    if name == project.name:
        return project
    project.name = name
    try:
        with transaction.atomic():
            project.save(update_fields=["name", "updated_at"])
    except IntegrityError:
        raise _name_conflict(name) from None
    return project


@transaction.atomic
def project_delete(*, project: Project) -> None:
    """Delete the project and everything it owns. Rows cascade; the apps that keep files for
    their rows remove them once the deletion commits."""

    project.delete()


@transaction.atomic
def project_set_active(*, project: Project, active: bool) -> Project:
    """Set the flag only. What (de)activation means for a project's builds is the builds app's
    business (``builds.services.project_activate``/``project_deactivate``)."""

    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.active != active:
        project.active = active
        project.save(update_fields=["active", "updated_at"])
    return project
