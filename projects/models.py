import re

from django.core.exceptions import ValidationError
from django.db import models

from hotapi.api.lookups import parse_uuid
from hotapi.ids import uuid7

PROJECT_NAME_MAX_LENGTH = 255
# The `hot` CLI names a project after its directory (`MyApp`, `my_app`, `My App`), so names are
# what a directory may be called, less what cannot travel in one URL path segment.
_UNUSABLE = re.compile(r"[/\\\x00-\x1f\x7f]")


def validate_project_name(name: str) -> None:
    if not name or len(name) > PROJECT_NAME_MAX_LENGTH:
        raise ValidationError(f"must be 1-{PROJECT_NAME_MAX_LENGTH} characters")
    if _UNUSABLE.search(name):
        raise ValidationError("must not contain '/', '\\' or control characters")
    if name != name.strip() or name in (".", ".."):
        raise ValidationError("must not start or end with whitespace, nor be '.' or '..'")
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
