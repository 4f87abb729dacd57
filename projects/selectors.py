from functools import cache

from django.db import connection
from django.db.models import QuerySet

from hotapi.api.lookups import parse_uuid
from hotapi.errors import NotFound

from .models import Project


def project_list(*, environment) -> QuerySet[Project]:
    return Project.objects.filter(environment=environment).order_by("-active", "-created_at", "-id")


@cache
def _lookup_sql(key: str) -> str:
    """``SELECT <every column> FROM project WHERE environment_id = %s AND <key> = %s``."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in Project._meta.concrete_fields)
    environment_column = quote(Project._meta.get_field("environment").column)
    key_column = quote(Project._meta.get_field(key).column)
    return (
        f"SELECT {columns} FROM {quote(Project._meta.db_table)} "
        f"WHERE {environment_column} = %s AND {key_column} = %s"
    )


def project_get(*, environment, ref: str) -> Project:
    """A project of ``environment`` by UUID or name; another environment's project is 404.

    Nearly every request under ``/projects/{ref}`` starts here, so the query's text is built
    once (a raw query of the same columns): building it through the ORM cost as much CPU as
    running it."""
    project_id = parse_uuid(ref)
    key, value = ("id", project_id) if project_id else ("name", ref)
    prepare = Project._meta.get_field
    params = [
        prepare("environment").get_db_prep_value(environment.pk, connection),
        prepare(key).get_db_prep_value(value, connection),
    ]
    for project in Project.objects.raw(_lookup_sql(key), params):
        return project
    raise NotFound("Project not found")
