"""Records of the API core itself (no app's data)."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an ``Idempotency-Key`` (see
    hotapi/api/idempotency.py). Written in the same transaction as the request's own writes,
    so it exists exactly when they do."""

    environment_id = models.UUIDField()  # no foreign key: the API core knows no app
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(encoder=DjangoJSONEncoder, null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["environment_id", "key"], name="uniq_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"
