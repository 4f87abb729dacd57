"""Custom domains of an environment, proven by a DNS record before anything serves them."""

from django.db import models

from hotapi.ids import uuid7


class Domain(models.Model):
    class Status(models.TextChoices):
        # The reference server's names. ``provisioning`` (its TLS step) and ``deleting`` (its
        # provider clean-up) never occur here: TLS is the reverse proxy's, deletion is at once.
        PENDING_VALIDATION = "pending_validation"
        VALIDATED = "validated"
        ACTIVE = "active"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "environments.Environment", on_delete=models.CASCADE, related_name="domains"
    )
    domain = models.CharField(max_length=253)
    validation_token = models.CharField(max_length=64, editable=False)
    status = models.CharField(
        max_length=32, choices=Status.choices, default=Status.PENDING_VALIDATION
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    check_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "domain"], name="uniq_domain_per_environment"
            ),
            # Anyone may register a name; only one environment can prove it is theirs.
            models.UniqueConstraint(
                fields=["domain"],
                condition=models.Q(verified_at__isnull=False),
                name="uniq_verified_domain",
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None
