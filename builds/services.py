"""Writes on builds: upload, deploy, and the project lifecycle hooks."""

import logging

from django.core.files.storage import storages
from django.db import transaction

from .models import Build, Schedule

log = logging.getLogger(__name__)


def build_storage():
    return storages["builds"]


def _delete_stored_files(keys: list[str]) -> None:
    storage = build_storage()
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # a missing object must not stop the others from going
            log.exception("Could not delete stored build %s", key)


def build_files_delete_on_commit(*, project) -> None:
    """Remove the project's stored bundles once the deletion of their rows has committed."""
    keys = list(Build.objects.filter(project=project).values_list("storage_key", flat=True))
    if keys:
        transaction.on_commit(lambda: _delete_stored_files(keys))


def project_deactivated(*, project) -> None:
    """A deactivated project serves nothing: undeploy its builds and stop its schedules."""
    Schedule.objects.filter(build__project=project).update(next_fire_at=None)
    Build.objects.filter(project=project, deployed=True).update(deployed=False)


def project_activated(*, project):
    """Reactivation redeploys the most recent build, as the real server does; returns its id."""
    latest = Build.objects.filter(project=project).order_by("-created_at", "-id").first()
    if latest is None:
        return None
    return deploy_request(build=latest).id
