import re

from django.core.exceptions import ValidationError
from django.db import models

from hotapi.ids import uuid7

PROJECT_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
PROJECT_NAME_RULE = (
    "must be 1-63 characters of lowercase letters, digits and hyphens, starting with a letter"
)
_UUID_SHAPE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def validate_project_name(name: str) -> None:
    if not PROJECT_NAME_PATTERN.fullmatch(name or ""):
        raise ValidationError(PROJECT_NAME_RULE)
    if _UUID_SHAPE.fullmatch(name):
        # /projects/{ref} reads a UUID as an id, so such a name could never be looked up.
        raise ValidationError("must not have the shape of a UUID")


class Project(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "environments.Environment", on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=63, validators=[validate_project_name])
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
