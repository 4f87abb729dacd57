from django.db.models import QuerySet

from hotapi.api.lookups import parse_uuid
from hotapi.errors import NotFound

from .models import Project


def project_list(*, environment) -> QuerySet[Project]:
    return Project.objects.filter(environment=environment).order_by("-active", "-created_at", "-id")


def project_get(*, environment, ref: str) -> Project:
    """A project of ``environment`` by UUID or name; another environment's project is 404."""
    project_id = parse_uuid(ref)
    lookup = {"pk": project_id} if project_id else {"name": ref}
    try:
        return Project.objects.get(environment=environment, **lookup)
    except Project.DoesNotExist:
        raise NotFound("Project not found") from None
