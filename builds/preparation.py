"""Preparing a build for the runtime: one path for deploys, live uploads and the workers.

``prepare_sources`` is the single place that asks the runtime to prepare a bundle's sources and
applies the deploy checks: the sources compile, every handler and schedule the bundle declares
exists, and what cannot serve yet comes back as warnings (missing context variables, functions
using features the runtime does not support). Deploys (``prepare_stored_build``) re-read and
verify the stored bundle first; live uploads prepare what they just inspected; workers keep the
prepared program of each build they run in a small per-process cache (``prepared_program``).
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from hotapi.runtime import get_runtime
from secrets_app.selectors import context_keys_present

from .bundle import BundleError, inspect_bundle
from .models import Build
from .storage import temporary_copy

QUOTED_ERRORS = 3
PROGRAM_CACHE_SIZE = 32


class DeployError(Exception):
    """A build cannot be deployed; the message is shown as ``runtime_error``."""


@dataclass
class Preparation:
    program: object  # the runtime's prepared form, what ``execute`` takes
    functions: list[str]  # every function the build defines, for hot:call routing
    warnings: list[str]
    resources: dict | None = None  # the bundle's resources/ files, by path below resources/
    # JSON Schemas derived from the signatures of the build's MCP tools, by function
    tool_schemas: dict = field(default_factory=dict)


def missing_context_warnings(build: Build) -> list[str]:
    required = build.inspection.get("context_requirements") or []
    if not required:
        return []
    present = context_keys_present(project_id=build.project_id, keys=required)
    return [
        f"Context variable '{key}' is required by the build but not set on the project"
        for key in required
        if key not in present
    ]


def _compile_error(errors: list[dict]) -> DeployError:
    details = "; ".join(
        f"{e['file']}:{e['line']}:{e['col']}: {e['message']}" for e in errors[:QUOTED_ERRORS]
    )
    more = len(errors) - QUOTED_ERRORS
    suffix = f" (and {more} more)" if more > 0 else ""
    return DeployError(f"Source does not compile: {details}{suffix}")


def _entry_points(build: Build, tools: list):
    for handler in build.event_handlers.all():
        yield "handler", handler.event_type, f"{handler.ns}/{handler.var}"
    for schedule in build.schedules.all():
        yield "schedule", schedule.cron, f"{schedule.ns}/{schedule.var}"
    for webhook in build.webhooks.all():
        yield (
            "webhook",
            f"{webhook.method} {webhook.service}/{webhook.path}",
            (f"{webhook.ns}/{webhook.var}"),
        )
    for tool in tools:
        yield "MCP tool", f"{tool.service}/{tool.name}", f"{tool.ns}/{tool.var}"


def prepare_sources(*, build: Build, sources: dict) -> Preparation:
    """Prepare ``sources`` (the bundle's files) for ``build``, whose handlers and schedules
    are recorded. Raises DeployError with a readable reason when the build cannot serve."""
    prepared = get_runtime().prepare(sources)
    if prepared.errors:
        raise _compile_error(prepared.errors)
    defined = set(prepared.functions)
    # Sections of the manifest nothing here serves are told at every deploy, never dropped.
    warnings = [*(build.inspection.get("unserved") or []), *missing_context_warnings(build)]
    tools = list(build.mcp_tools.all())
    for kind, trigger, name in _entry_points(build, tools):
        if name not in defined:
            raise DeployError(
                f"The manifest names {kind} {name} ({trigger}) but no source defines it"
            )
        if unsupported := prepared.unsupported.get(name):
            warnings.append(
                f"{kind.capitalize()} {name} uses features this runtime does not support yet: "
                + ", ".join(sorted(unsupported))
            )
    unschemed = [f"{tool.ns}/{tool.var}" for tool in tools if tool.input_schema is None]
    return Preparation(
        program=prepared,
        functions=sorted(defined),
        warnings=warnings,
        tool_schemas=get_runtime().tool_schemas(prepared, unschemed) if unschemed else {},
    )


def prepare_stored_build(build: Build) -> Preparation:
    """Check the stored bundle again (it must be the one uploaded) and prepare it; the
    preparation carries the bundle's resources (for ``::hot::resource``)."""
    try:
        with temporary_copy(build.storage_key) as handle:
            info = inspect_bundle(handle)
    except FileNotFoundError:
        raise DeployError("The stored bundle is missing from build storage") from None
    except BundleError as exc:
        raise DeployError(f"The stored bundle is invalid: {exc.message}") from None
    if info.sha256 != build.sha256:
        raise DeployError("The stored bundle does not match the uploaded one (SHA-256 differs)")
    preparation = prepare_sources(build=build, sources=info.sources)
    preparation.resources = info.resources
    return preparation


_programs: OrderedDict = OrderedDict()
_programs_lock = threading.Lock()


def prepared_program(build: Build):
    """The runtime's prepared form of a deployed build, prepared once per worker process (a
    small LRU: builds are immutable, so an entry never goes stale)."""
    return _prepared(build).program


def build_resources(build: Build) -> dict[str, bytes]:
    """The files under the build's ``resources/`` (from the same per-process cache)."""
    return _prepared(build).resources or {}


def _prepared(build: Build) -> Preparation:
    with _programs_lock:
        if build.pk in _programs:
            _programs.move_to_end(build.pk)
            return _programs[build.pk]
    preparation = prepare_stored_build(build)
    with _programs_lock:
        _programs[build.pk] = preparation
        while len(_programs) > PROGRAM_CACHE_SIZE:
            _programs.popitem(last=False)
    return preparation
