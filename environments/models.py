"""Organizations, environments (the tenancy boundary of the API) and their API keys."""

from django.db import models

from hotapi.access import FULL_ACCESS
from hotapi.ids import uuid7

GIB = 1024**3


def full_access() -> dict:
    return dict(FULL_ACCESS)


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Environment(models.Model):
    """Everything an API key reaches lives in exactly one environment."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="environments"
    )
    name = models.CharField(max_length=63)
    active = models.BooleanField(
        default=True, help_text="Inactive environments reject every API key (401)."
    )
    requests_per_hour = models.PositiveIntegerField(
        default=100_000, help_text="API requests allowed per hour across all keys (429 beyond)."
    )
    requests_per_second = models.PositiveIntegerField(
        default=100,
        help_text="Burst limit: API requests allowed in any one second (0: no burst limit).",
    )
    max_concurrent_runs = models.PositiveIntegerField(
        default=50, help_text="Runs executing at once; further runs wait their turn."
    )
    storage_limit_bytes = models.PositiveBigIntegerField(
        default=10 * GIB, help_text="Total size of stored builds (uploads beyond get 413)."
    )
    compute_seconds_per_month = models.PositiveBigIntegerField(
        default=100 * 3600, help_text="Run time budget per calendar month (reported in quota)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_env_name_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.organization.name}/{self.name}"


class ApiKey(models.Model):
    """A bearer token ``hot_<id hex>_<secret hex>``; only an HMAC of the secret is stored."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=255, blank=True, default="")
    digest = models.CharField(max_length=64, editable=False)
    permissions = models.JSONField(
        default=full_access,
        help_text='What the key may do, e.g. {"*:*": ["*"]} (everything, the default) or '
        '{"event:*": ["create", "read"], "stream:*": ["read"]}. Sessions and service keys it '
        "issues get at most this.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name or 'key'} ({self.id.hex[:8]}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Session(models.Model):
    """A short-lived token ``s_<id hex>_<secret hex>`` minted by an API key, for browsers."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="sessions")
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, editable=False)
    permissions = models.JSONField()
    metadata = models.JSONField(null=True, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["api_key", "expires_at"], name="session_key_expiry")]

    def __str__(self) -> str:
        return f"session {self.id.hex[:8]}…"


class ServiceKey(models.Model):
    """A long-lived scoped token ``<id hex>_<secret hex>`` (no prefix: it is white-label),
    issued by an API key to a customer or an integration."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="service_keys")
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    digest = models.CharField(max_length=64, editable=False)
    permissions = models.JSONField()
    metadata = models.JSONField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name or 'service key'} ({self.id.hex[:8]}…)"
