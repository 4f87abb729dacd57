"""Writes on builds: upload, deploy (request and activation), and what activating or
deactivating a project does to its builds.

Upload checks the whole bundle before anything is kept: a rejected upload leaves no row and no
stored file. Deploys are asynchronous: the API bumps the project's deployment sequence and
enqueues a job after commit; the job activates the build only while its sequence is still the
newest, so the previously deployed build keeps serving until the new one is ready.
"""

import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from environments.services import storage_reserve
from hotapi import metrics, sql
from hotapi.errors import Conflict, DomainError, InvalidInput, TooLarge
from projects.models import Project
from projects.services import project_set_active

from .bundle import BundleError, BundleInfo, BundleLimits, inspect_bundle, next_fire, zone
from .models import (
    Build,
    BuildType,
    EventHandler,
    McpTool,
    RuntimeStatus,
    Schedule,
    ScheduleKind,
    ServingVersion,
    Webhook,
)
from .preparation import (
    DeployError,
    missing_context_warnings,
    prepare_sources,
    prepare_stored_build,
)
from .storage import build_storage, delete_stored_files, storage_backend_name, stored_keys

log = logging.getLogger(__name__)


# --- upload ----------------------------------------------------------------------------------


@dataclass
class UploadResult:
    build: Build
    created: bool
    warnings: list[str] = field(default_factory=list)


def _bundle_error(exc: BundleError) -> DomainError:
    if exc.is_limit:
        return TooLarge(exc.message, code="payload_too_large")
    return InvalidInput(exc.message, details={"file": [exc.message], "reason": [exc.code]})


def _inspect_upload(upload, client_hash: str) -> BundleInfo:
    if upload.size == 0:
        raise InvalidInput("The uploaded file is empty", details={"file": ["empty file"]})
    limits = BundleLimits()
    try:
        return inspect_bundle(
            upload.file,
            limits=limits,
            client_hash=client_hash,
            known_sha256=getattr(upload, "sha256", None),
        )
    except BundleError as exc:
        raise _bundle_error(exc) from None


def _check_storage_quota(project: Project, size: int) -> None:
    """An early look, before the file is stored; ``_record_build`` reserves for real."""
    with transaction.atomic():
        storage_reserve(environment_id=project.environment_id, size=size)


def _existing_build_outcome(existing: Build, project: Project, info: BundleInfo) -> UploadResult:
    if existing.project_id != project.id:
        raise Conflict("build_id already belongs to another project")
    if existing.sha256 != info.sha256:
        raise Conflict("build_id already exists with different content")
    return UploadResult(build=existing, created=False)


def _record_discoveries(build: Build, info: BundleInfo) -> None:
    EventHandler.objects.bulk_create(
        EventHandler(
            build=build,
            event_type=handler.event_type,
            ns=handler.ns,
            var=handler.var,
            once=handler.once,
            meta=handler.meta,
            file=handler.file or "",
            line=handler.line,
        )
        for handler in info.event_handlers
        if not handler.system
    )
    Schedule.objects.bulk_create(
        Schedule(
            build=build,
            project_id=build.project_id,
            cron=schedule.cron,
            normalized=schedule.normalized or "",
            ns=schedule.ns,
            var=schedule.var,
            meta=schedule.meta,
            timezone=schedule.meta.get("timezone") or "UTC",
            file=schedule.file or "",
            line=schedule.line,
        )
        for schedule in info.schedules
        if not schedule.system
    )
    _record_endpoints(build, info)


def new_webhook_token() -> str:
    """128 random bits: the secret part of a webhook URL."""
    return secrets.token_hex(16)


def _webhook_tokens(build: Build) -> dict[tuple[str, str, str], str]:
    """The tokens the environment's webhooks already have, newest build first wins: a
    redeployed endpoint keeps its URL."""
    rows = (
        Webhook.objects.filter(build__project__environment_id=build.project.environment_id)
        .exclude(build=build)
        .order_by("build__created_at", "build_id")
        .values_list("service", "path", "method", "token")
    )
    return {(service, path, method): token for service, path, method, token in rows}


def _record_endpoints(build: Build, info: BundleInfo) -> None:
    manifest = info.manifest
    if manifest is None or not (manifest.webhooks or manifest.mcp_tools):
        return
    tokens = _webhook_tokens(build) if manifest.webhooks else {}
    Webhook.objects.bulk_create(
        Webhook(
            build=build,
            service=hook.service,
            path=hook.path,
            method=hook.method,
            name=hook.name,
            auth=hook.auth,
            description=hook.description or "",
            ns=hook.ns,
            var=hook.var,
            meta=hook.meta,
            file=hook.file or "",
            line=hook.line,
            token=tokens.get((hook.service, hook.path, hook.method)) or new_webhook_token(),
        )
        for hook in manifest.webhooks
    )
    McpTool.objects.bulk_create(
        McpTool(
            build=build,
            service=tool.service,
            name=tool.name,
            auth=tool.auth,
            description=tool.description or "",
            title=tool.title or "",
            input_schema=tool.input_schema,
            output_schema=tool.output_schema,
            annotations=tool.annotations,
            icons=tool.icons,
            ns=tool.ns,
            var=tool.var,
            meta=tool.meta,
            file=tool.file or "",
            line=tool.line,
        )
        for tool in manifest.mcp_tools
    )


def _inspection_summary(info: BundleInfo) -> dict:
    return {
        "has_manifest": info.has_manifest,
        "bundle_hash": info.bundle_hash,
        "hash_matched": info.hash_matched,
        "entry_count": info.entry_count,
        "uncompressed_size": info.uncompressed_size,
        "context_requirements": info.context_requirements,
        "warnings": info.warnings,
        "unserved": list(info.manifest.unserved) if info.manifest else [],
    }


def build_upload(
    *,
    project: Project,
    upload,
    client_hash: str,
    build_id: uuid.UUID | None = None,
    build_type: str = BuildType.BUNDLE,
) -> UploadResult:
    """Check, store and record an uploaded bundle."""
    if build_id is not None:
        existing = Build.objects.filter(pk=build_id).first()
        if existing is not None:
            return _existing_build_outcome(existing, project, _inspect_upload(upload, client_hash))
    info = _inspect_upload(upload, client_hash)
    _check_storage_quota(project, info.size)

    build_id = build_id or uuid.uuid4()
    key = f"{project.environment_id}/{project.id}/{build_id}-{secrets.token_hex(4)}.hot.zip"
    upload.file.seek(0)
    # A temporary upload is moved (not copied) into local storage when on the same disk.
    stored_key = build_storage().save(
        key, upload if hasattr(upload, "temporary_file_path") else File(upload.file, name=key)
    )
    try:
        with transaction.atomic():
            build = _record_build(project, info, build_id, build_type, client_hash, stored_key)
    except IntegrityError:
        delete_stored_files([stored_key])
        existing = Build.objects.filter(pk=build_id).first()
        if existing is None:
            raise
        return _existing_build_outcome(existing, project, info)
    except BaseException:
        delete_stored_files([stored_key])
        raise
    return UploadResult(build=build, created=True, warnings=info.warnings)


def _record_build(project, info, build_id, build_type, client_hash, stored_key) -> Build:
    if build_type == BuildType.LIVE:
        # The live build is replaced in place: one per project, deployed at once. Its stored
        # file goes once this commits (builds/signals.py).
        Build.objects.select_for_update().filter(project=project, build_type="live").delete()
    storage_reserve(environment_id=project.environment_id, size=info.size)
    build = Build.objects.create(
        id=build_id,
        project=project,
        hash=client_hash,
        sha256=info.sha256,
        bundle_hash=info.bundle_hash or "",
        size=info.size,
        build_type=build_type,
        storage_key=stored_key,
        storage_backend=storage_backend_name(),
        engine_version=info.engine_version or "",
        inspection=_inspection_summary(info),
    )
    _record_discoveries(build, info)
    if build_type == BuildType.LIVE:
        # A live build serves at once, so it is prepared here rather than by a worker, with
        # the same checks and warnings as a deploy.
        try:
            preparation = prepare_sources(build=build, sources=info.sources)
        except DeployError as exc:
            raise InvalidInput(str(exc), details={"file": [str(exc)]}) from None
        build.inspection = {**build.inspection, "functions": preparation.functions}
        project = Project.objects.select_for_update(no_key=True).get(pk=project.pk)
        _record_tool_schemas(build, preparation.tool_schemas)
        _activate(project, build, sequence=_next_sequence(project), warnings=preparation.warnings)
    return build


# --- deploy ----------------------------------------------------------------------------------


def _next_sequence(project: Project) -> int:
    project.deployment_sequence += 1
    project.active = True  # deploying into a deactivated project reactivates it (as Hot does)
    project.save(update_fields=["deployment_sequence", "active", "updated_at"])
    return project.deployment_sequence


@dataclass
class DeployQueued:
    build: Build
    warnings: list[str]  # what can be told before the worker prepares it


@transaction.atomic
def deploy_request(*, build: Build) -> DeployQueued:
    """Queue a deploy of ``build``; the currently deployed build keeps serving meanwhile."""
    from .tasks import deploy_build

    project = Project.objects.select_for_update(no_key=True).get(pk=build.project_id)
    build = Build.objects.select_for_update(no_key=True).get(pk=build.pk)
    sequence = _next_sequence(project)
    Build.objects.filter(
        project=project, runtime_status__in=[RuntimeStatus.PENDING, RuntimeStatus.LOADING]
    ).exclude(pk=build.pk).exclude(deployed=True).update(
        runtime_status=RuntimeStatus.SUPERSEDED, updated_at=timezone.now()
    )
    build.deployment_sequence = sequence
    fields = ["deployment_sequence", "updated_at"]
    if not build.deployed:
        build.runtime_status = RuntimeStatus.PENDING
        build.runtime_error = None
        fields += ["runtime_status", "runtime_error"]
    build.save(update_fields=fields)
    build_id, project_id = str(build.pk), str(project.pk)
    transaction.on_commit(lambda: deploy_build.delay(build_id, sequence))
    log.info(
        "Deploy of build %s queued for project %s (sequence %s)", build_id, project_id, sequence
    )
    return DeployQueued(build=build, warnings=missing_context_warnings(build))


def _still_newest(project: Project, sequence: int) -> bool:
    return project.deployment_sequence == sequence


def _record_tool_schemas(build: Build, schemas: dict) -> None:
    """Tools whose manifest gave no schema get the ones derived from their signature."""
    for tool in build.mcp_tools.filter(input_schema__isnull=True):
        derived = schemas.get(f"{tool.ns}/{tool.var}") or {}
        tool.input_schema = derived.get("input") or {"type": "object", "properties": {}}
        tool.output_schema = tool.output_schema or derived.get("output")
        tool.save(update_fields=["input_schema", "output_schema"])


def _activate(project: Project, build: Build, *, sequence: int, warnings: list[str]) -> None:
    """Make ``build`` the project's deployed build; its handlers and schedules become active in
    the same transaction. The caller holds the project row lock."""
    now = timezone.now()
    previous = Build.objects.filter(project=project, deployed=True).exclude(pk=build.pk)
    # Settings made through the API (pause, time zone, overlap) carry over to the schedule of
    # the same function in the new build.
    settings_of = {
        (old.ns, old.var): old
        for old in Schedule.objects.filter(project=project, kind=ScheduleKind.DECLARED)
        .exclude(build=build)
        .order_by("build__created_at")
    }
    Schedule.objects.filter(build__in=previous).update(next_fire_at=None)
    previous.update(deployed=False, updated_at=now)
    build.deployed = True
    build.runtime_status = RuntimeStatus.READY
    build.runtime_error = None
    build.runtime_warnings = warnings
    build.deployment_sequence = sequence
    build.deployed_at = now
    build.save()
    schedules = list(build.schedules.all())
    for schedule in schedules:
        old = settings_of.get((schedule.ns, schedule.var))
        if old is not None:
            schedule.paused, schedule.overlap = old.paused, old.overlap
            if "timezone" not in schedule.meta:  # a zone written in the code wins
                schedule.timezone = old.timezone
        schedule.next_fire_at = next_fire(
            schedule.normalized or schedule.cron, now, zone(schedule.timezone)
        )
    Schedule.objects.bulk_update(schedules, ["next_fire_at", "paused", "timezone", "overlap"])


def deploy_fail(*, build_id, sequence: int, error: str) -> None:
    with transaction.atomic():
        build = Build.objects.select_for_update(no_key=True).filter(pk=build_id).first()
        if build is None or build.deployment_sequence != sequence:
            return
        build.runtime_error = error
        if not build.deployed:  # a re-deploy that fails leaves the serving build serving
            build.runtime_status = RuntimeStatus.FAILED
        build.save(update_fields=["runtime_error", "runtime_status", "updated_at"])


def deploy_execute(*, build_id, sequence: int) -> str:
    """The worker side of a deploy. Returns what happened (for logs and tests)."""
    outcome = _deploy_execute(build_id=build_id, sequence=sequence)
    metrics.deploys.labels(outcome).inc()
    log.info(
        "Deploy of build %s (sequence %s): %s",
        build_id,
        sequence,
        outcome,
        extra={"build_id": str(build_id), "sequence": sequence, "outcome": outcome},
    )
    return outcome


def _deploy_execute(*, build_id, sequence: int) -> str:
    build = Build.objects.select_related("project").filter(pk=build_id).first()
    if build is None:
        return "missing"
    if build.deployment_sequence != sequence or not _still_newest(build.project, sequence):
        return "superseded"
    if not build.deployed:
        # Not once it is deployed: a second job for the same sequence (a redelivered message)
        # that read the row before the first one activated it must not take it out of service.
        Build.objects.filter(pk=build.pk, deployment_sequence=sequence, deployed=False).update(
            runtime_status=RuntimeStatus.LOADING, updated_at=timezone.now()
        )
    log.info("Deploy of build %s (sequence %s): preparing", build.pk, sequence)
    try:
        preparation = prepare_stored_build(build)
    except DeployError as exc:
        deploy_fail(build_id=build.pk, sequence=sequence, error=str(exc))
        log.info("Deploy of build %s could not be prepared: %s", build.pk, exc)
        return "failed"
    with transaction.atomic():
        project = Project.objects.select_for_update(no_key=True).get(pk=build.project_id)
        build = Build.objects.select_for_update(no_key=True).get(pk=build.pk)
        if not _still_newest(project, sequence) or build.deployment_sequence != sequence:
            if not build.deployed:
                build.runtime_status = RuntimeStatus.SUPERSEDED
                build.save(update_fields=["runtime_status", "updated_at"])
            return "superseded"
        build.inspection = {**build.inspection, "functions": preparation.functions}
        _record_tool_schemas(build, preparation.tool_schemas)
        _activate(project, build, sequence=sequence, warnings=preparation.warnings)
    return "deployed"


# --- project activation ----------------------------------------------------------------------


@dataclass
class ProjectActivation:
    project: Project
    redeployed_build_id: uuid.UUID | None = None


@transaction.atomic
def project_activate(*, project: Project) -> ProjectActivation:
    """Activate a project and redeploy its most recent build, as the real server does."""
    project = project_set_active(project=project, active=True)
    latest = Build.objects.filter(project=project).order_by("-created_at", "-id").first()
    if latest is None:
        return ProjectActivation(project=project)
    queued = deploy_request(build=latest)
    return ProjectActivation(project=project, redeployed_build_id=queued.build.id)


@transaction.atomic
def project_deactivate(*, project: Project) -> ProjectActivation:
    """A deactivated project serves nothing: its builds are undeployed and its schedules
    stop."""
    project = project_set_active(project=project, active=False)
    Schedule.objects.filter(build__project=project).update(next_fire_at=None)
    Build.objects.filter(project=project, deployed=True).update(deployed=False)
    return ProjectActivation(project=project)


_RAISE_SERVING_SQL = (
    "INSERT INTO {table} ({environment}, {version}) VALUES (%s, 1) "
    "ON CONFLICT ({environment}) DO UPDATE SET {version} = {table}.{version} + 1"
)


def serving_changed(*, environment_id) -> None:
    """Raise the environment's serving version in the caller's transaction (``builds.signals``
    calls it for every saved or deleted build and project): workers read its event handlers
    again before routing its next event (``selectors.cached_event_handlers``)."""
    statement = _RAISE_SERVING_SQL.format(
        table=sql.table(ServingVersion),
        environment=sql.column(ServingVersion, "environment"),
        version=sql.column(ServingVersion, "version"),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [sql.db_value(ServingVersion, "environment", environment_id)])


# --- storage maintenance ---------------------------------------------------------------------


@dataclass
class StorageSweep:
    examined: int = 0
    orphans: list[str] = field(default_factory=list)
    too_recent: int = 0  # orphans younger than min_age, kept (an upload may be committing)
    deleted: int = 0


def build_storage_gc(
    *, min_age: timedelta, dry_run: bool = False, progress=lambda examined: None
) -> StorageSweep:
    """Delete stored bundles no build row refers to (left by crashes or by deletions made
    before stored files followed their rows). Files younger than ``min_age`` are kept: an
    upload stores its file just before its row commits."""
    sweep = StorageSweep()
    storage = build_storage()
    cutoff = timezone.now() - min_age
    known = set(Build.objects.values_list("storage_key", flat=True))
    for key in stored_keys():
        sweep.examined += 1
        if sweep.examined % 1000 == 0:
            progress(sweep.examined)
        if key in known:
            continue
        if storage.get_modified_time(key) > cutoff:
            sweep.too_recent += 1
            continue
        sweep.orphans.append(key)
    if not dry_run:
        delete_stored_files(sweep.orphans)
        sweep.deleted = len(sweep.orphans)
    return sweep
