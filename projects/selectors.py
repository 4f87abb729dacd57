from django.db.models import QuerySet

from hotapi import sql
from hotapi.api.lookups import parse_uuid
from hotapi.errors import NotFound

from .models import Project


def project_list(*, environment) -> QuerySet[Project]:
    return Project.objects.filter(environment=environment).order_by("-active", "-created_at", "-id")


def project_get(*, environment, ref: str) -> Project:
    """A project of ``environment`` by UUID or name; another environment's project is 404.

    Nearly every request under ``/projects/{ref}`` starts here, so the query's text is built
    once (``hotapi.sql``): building it through the ORM cost as much CPU as running it."""
    project_id = parse_uuid(ref)
    lookup = {"id": project_id} if project_id else {"name": ref}
    project = sql.row_where(Project, {"environment": environment.pk, **lookup})
    if project is None:
        raise NotFound("Project not found")
    return project
