"""Writes on projects: create, rename, delete, activate, deactivate."""

from django.db import IntegrityError, transaction

from builds.services import build_files_delete_on_commit, project_activated, project_deactivated
from hotapi.api.exceptions import Conflict

from .models import Project


def _name_conflict(name: str) -> Conflict:
    return Conflict(f"A project named '{name}' already exists in this environment")


def project_create(*, environment, name: str) -> Project:
    try:
        with transaction.atomic():
            return Project.objects.create(environment=environment, name=name)
    except IntegrityError:
        raise _name_conflict(name) from None


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
    """Delete the project and everything it owns (rows cascade; stored files after commit)."""

    build_files_delete_on_commit(project=project)
    project.delete()


@transaction.atomic
def project_set_active(*, project: Project, active: bool) -> dict:
    """Activate or deactivate; the response shape follows the real server's
    ``{"project": ..., "redeployed_build_id"?}``."""

    project = Project.objects.select_for_update().get(pk=project.pk)
    result: dict = {}
    if project.active != active:
        project.active = active
        project.save(update_fields=["active", "updated_at"])
    if active:
        redeployed = project_activated(project=project)
        if redeployed is not None:
            result["redeployed_build_id"] = redeployed
    else:
        project_deactivated(project=project)
    result["project"] = project
    return result
