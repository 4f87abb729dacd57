import re

from django.core.exceptions import ValidationError
from django.db import models

from hotapi.api.lookups import parse_uuid
from hotapi.ids import uuid7

PROJECT_NAME_MAX_LENGTH = 255
# The `hot` CLI names a project after its directory (`MyApp`, `my_app`, `My App`), so names are
# what a directory may be called, less what cannot travel in one URL path segment: no '/', '\\'
# or control characters, no whitespace at either end, no leading '.' (so never '.' or '..').
# Written out (not \s) so the same pattern means the same in Python and in the OpenAPI
# document's ECMAScript regex.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
_END_SPACE = r"\x20\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
PROJECT_NAME_PATTERN = (
    rf"^[^./\\{_CONTROL}{_END_SPACE}]"
    rf"(?:[^/\\{_CONTROL}]{{0,{PROJECT_NAME_MAX_LENGTH - 2}}}[^/\\{_CONTROL}{_END_SPACE}])?$"
)
PROJECT_NAME_RULE = (
    f"must be 1-{PROJECT_NAME_MAX_LENGTH} characters without '/', '\\' or control characters, "
    "not start with '.' nor start or end with whitespace"
)
_NAME = re.compile(PROJECT_NAME_PATTERN)


def validate_project_name(name: str) -> None:
    if not _NAME.fullmatch(name or ""):
        raise ValidationError(PROJECT_NAME_RULE)
    if parse_uuid(name) is not None:
        # /projects/{ref} reads a UUID as an id, so such a name could never be looked up.
        raise ValidationError("must not have the shape of a UUID")


class Project(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "environments.Environment", on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=PROJECT_NAME_MAX_LENGTH, validators=[validate_project_name])
    active = models.BooleanField(default=True)
    # Bumped by every deploy request; a deploy job activates its build only while it still
    # holds the newest sequence, so a slow older deploy can never overwrite a newer one.
    deployment_sequence = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-active", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "name"], name="uniq_project_name_per_env"
            )
        ]

    def __str__(self) -> str:
        return self.name
