from django.db import models

from hotapi.ids import uuid7


class ContextVariable(models.Model):
    """A per-project secret. Only ciphertext is stored; values never leave through the API."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="context_variables"
    )
    key = models.CharField(max_length=255)
    ciphertext = models.BinaryField(editable=False)
    key_id = models.CharField(max_length=16, editable=False, db_index=True)
    description = models.TextField(null=True, blank=True)  # noqa: DJ001  (API null)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="uniq_context_key_per_project")
        ]

    def __str__(self) -> str:
        return self.key
