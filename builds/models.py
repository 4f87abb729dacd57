"""Builds (uploaded Hot bundles), and the event handlers and schedules each build declares."""

from urllib.parse import quote

from django.db import models
from django.db.models import Q

from hotapi.ids import uuid7


class BuildType(models.TextChoices):
    BUNDLE = "bundle"
    LIVE = "live"


class RuntimeStatus(models.TextChoices):
    PENDING = "pending"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"
    SUPERSEDED = "superseded"


class Build(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="builds")
    hash = models.CharField(max_length=128, help_text="The hash the client sent (validated).")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the uploaded zip.")
    bundle_hash = models.CharField(
        max_length=64, blank=True, default="", help_text="BLAKE3 bundle hash, as the CLI computes."
    )
    size = models.BigIntegerField()
    build_type = models.CharField(max_length=16, choices=BuildType, default=BuildType.BUNDLE)
    storage_key = models.CharField(max_length=512, help_text="Object key in the build storage.")
    storage_backend = models.CharField(max_length=16, default="local")
    active = models.BooleanField(default=True)
    deployed = models.BooleanField(default=False)
    runtime_status = models.CharField(
        max_length=16, choices=RuntimeStatus, default=RuntimeStatus.PENDING
    )
    runtime_error = models.TextField(null=True, blank=True)  # noqa: DJ001  (null = no error)
    runtime_warnings = models.JSONField(default=list, blank=True)
    deployment_sequence = models.BigIntegerField(default=0)
    engine_version = models.CharField(max_length=64, blank=True, default="")
    inspection = models.JSONField(
        default=dict, blank=True, help_text="What the upload check found (files, requirements)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deployed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-deployed", "-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="build_project_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(deployed=True),
                name="one_deployed_build_per_project",
            ),
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(build_type="live"),
                name="one_live_build_per_project",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} build {self.id}"


class ServingVersion(models.Model):
    """A number raised in the transaction of every change to what serves an environment's
    events (a build saved or deleted, a project (de)activated or deleted; ``builds.signals``).
    Workers keep an environment's event handlers with the version they were read at
    (``builds.selectors.cached_event_handlers``) and read them again once it moves. Its own
    row, not a column of the environment: raising it never waits for the environment lock
    that routing holds, and reading it takes no lock."""

    environment = models.OneToOneField(
        "environments.Environment", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"serving version {self.version}"


class EventHandler(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="event_handlers")
    event_type = models.CharField(max_length=255)
    ns = models.CharField(max_length=255)
    var = models.CharField(max_length=255)
    once = models.BooleanField(default=False)
    meta = models.JSONField(default=dict, blank=True)
    file = models.CharField(max_length=1024, blank=True, default="")
    line = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["event_type", "ns", "var", "id"]
        indexes = [models.Index(fields=["build", "event_type"], name="handler_build_event")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.ns}/{self.var}"


class ScheduleKind(models.TextChoices):
    DECLARED = "declared"  # ``meta {schedule: ...}`` of a build
    DYNAMIC = "dynamic"  # ``send("hot:schedule:new", ...)`` from a run


class ScheduleStatus(models.TextChoices):
    ACTIVE = "active"
    CANCELLED = "cancelled"  # a dynamic schedule cancelled by ``hot:schedule:cancel``
    COMPLETED = "completed"  # a one-off dynamic schedule that has fired


class OverlapPolicy(models.TextChoices):
    ALLOW = "allow"  # fire even while the previous run is still going (Hot's behaviour)
    SKIP = "skip"  # skip a due time while the previous run is still going
    QUEUE = "queue"  # hold a due time until the previous run ends, then fire it once


class Schedule(models.Model):
    """A schedule the scheduler fires: declared by a build (one row per build, firing while it
    is deployed) or created at run time by Hot code (owned by the project, see the decisions
    record on dynamic schedules)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(max_length=16, choices=ScheduleKind, default=ScheduleKind.DECLARED)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="schedules"
    )
    # The declaring build; empty for a dynamic schedule, which outlives deploys.
    build = models.ForeignKey(
        Build, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    cron = models.CharField(
        max_length=255, blank=True, default="", help_text="As written; empty for a one-off."
    )
    normalized = models.CharField(
        max_length=255, blank=True, default="", help_text="The 7-field form the scheduler uses."
    )
    run_at = models.DateTimeField(null=True, blank=True, help_text="When a one-off fires.")
    ns = models.CharField(max_length=255)
    var = models.CharField(max_length=255)
    args = models.JSONField(default=list, blank=True, help_text="A dynamic schedule's arguments.")
    meta = models.JSONField(default=dict, blank=True)
    file = models.CharField(max_length=1024, blank=True, default="")
    line = models.PositiveIntegerField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA time zone name.")
    overlap = models.CharField(max_length=8, choices=OverlapPolicy, default=OverlapPolicy.ALLOW)
    paused = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=ScheduleStatus, default=ScheduleStatus.ACTIVE)
    origin_run_id = models.UUIDField(null=True, blank=True, help_text="The run that created it.")
    created_at = models.DateTimeField(auto_now_add=True, null=True)
    # Set while the schedule can fire; the scheduler fires rows whose time has come.
    next_fire_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["ns", "var", "id"]

    def __str__(self) -> str:
        return f"{self.cron or self.run_at} → {self.ns}/{self.var}"

    @property
    def function(self) -> str:
        return f"{self.ns}/{self.var}"


class AuthMode(models.TextChoices):
    NONE = "none"
    REQUIRED = "required"


class Webhook(models.Model):
    """A function a build exposes as an HTTP endpoint (``meta {webhook: ...}``), served at
    ``/webhook/{org}/{env}/{service}/{path}/{token}`` while the build is deployed.

    ``token`` makes the URL unguessable; it is kept from one build to the next for the same
    environment, service, path and method, so redeploying does not change the URL."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="webhooks")
    service = models.CharField(max_length=255)
    path = models.CharField(max_length=1024, blank=True, default="", help_text="No outer '/'.")
    method = models.CharField(max_length=8, default="POST")
    name = models.CharField(max_length=255)
    auth = models.CharField(max_length=16, choices=AuthMode, default=AuthMode.NONE)
    description = models.TextField(blank=True, default="")
    ns = models.CharField(max_length=255)
    var = models.CharField(max_length=255)
    meta = models.JSONField(default=dict, blank=True)
    file = models.CharField(max_length=1024, blank=True, default="")
    line = models.PositiveIntegerField(null=True, blank=True)
    token = models.CharField(max_length=64)

    class Meta:
        ordering = ["service", "path", "method", "id"]
        indexes = [models.Index(fields=["build", "service"], name="webhook_build_service")]
        constraints = [
            models.UniqueConstraint(
                fields=["build", "service", "path", "method"], name="uniq_webhook_per_build"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.service}/{self.path} → {self.ns}/{self.var}"

    def url_path(self, *, organization: str, environment: str) -> str:
        """The path the webhook is served at (token included: the URL is the secret)."""
        parts = [quote(organization, safe=""), quote(environment, safe="")]
        parts += [self.service, self.path, self.token]
        return "/webhook/" + "/".join(part for part in parts if part)


class McpTool(models.Model):
    """A function a build exposes as an MCP tool (``meta {mcp: ...}``) of a service, served at
    ``/mcp/{org}/{env}/{service}`` while the build is deployed. The schemas are the
    manifest's, or derived from the function's signature when the build is prepared."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="mcp_tools")
    service = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    auth = models.CharField(max_length=16, choices=AuthMode, default=AuthMode.REQUIRED)
    description = models.TextField(blank=True, default="")
    title = models.CharField(max_length=255, blank=True, default="")
    input_schema = models.JSONField(null=True, blank=True)
    output_schema = models.JSONField(null=True, blank=True)
    annotations = models.JSONField(null=True, blank=True)
    icons = models.JSONField(null=True, blank=True)
    ns = models.CharField(max_length=255)
    var = models.CharField(max_length=255)
    meta = models.JSONField(default=dict, blank=True)
    file = models.CharField(max_length=1024, blank=True, default="")
    line = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["service", "name", "id"]
        indexes = [models.Index(fields=["build", "service"], name="mcp_tool_build_service")]
        constraints = [
            models.UniqueConstraint(fields=["build", "service", "name"], name="uniq_mcp_tool")
        ]

    def __str__(self) -> str:
        return f"{self.service}/{self.name} → {self.ns}/{self.var}"
