"""Deploy-time preparation: re-verify the stored bundle and prepare it with the runtime."""

import logging
from dataclasses import dataclass

from hotapi.runtime import get_runtime

from .bundle import BundleError, inspect_bundle
from .models import Build
from .services import DeployError, missing_context_warnings, temporary_copy

log = logging.getLogger(__name__)

QUOTED_ERRORS = 3


def _qualified(ns: str, var: str) -> str:
    return f"{ns}/{var}"


@dataclass
class Preparation:
    warnings: list[str]
    functions: list[str]  # every function the build defines, for hot:call routing


def prepare_build(build: Build) -> Preparation:
    """Check the stored bundle again and ask the runtime to prepare it.

    Returns warnings (missing context variables, handlers using unsupported features) and the
    functions defined; raises DeployError with a readable reason when the build cannot serve.
    """

    try:
        with temporary_copy(build) as handle:
            info = inspect_bundle(handle)
    except FileNotFoundError:
        raise DeployError("The stored bundle is missing from build storage") from None
    except BundleError as exc:
        raise DeployError(f"The stored bundle is invalid: {exc.message}") from None
    if info.sha256 != build.sha256:
        raise DeployError("The stored bundle does not match the uploaded one (SHA-256 differs)")

    prepared = get_runtime().prepare(info.sources)
    if prepared.errors:
        details = "; ".join(
            f"{e['file']}:{e['line']}:{e['col']}: {e['message']}"
            for e in prepared.errors[:QUOTED_ERRORS]
        )
        more = len(prepared.errors) - QUOTED_ERRORS
        suffix = f" (and {more} more)" if more > 0 else ""
        raise DeployError(f"Source does not compile: {details}{suffix}")

    defined = set(prepared.functions)
    warnings = missing_context_warnings(build)
    entry_points = [
        *(("handler", h.event_type, h.ns, h.var) for h in build.event_handlers.all()),
        *(("schedule", s.cron, s.ns, s.var) for s in build.schedules.all()),
    ]
    for kind, trigger, ns, var in entry_points:
        name = _qualified(ns, var)
        if name not in defined:
            raise DeployError(
                f"The manifest names {kind} {name} ({trigger}) but no source defines it"
            )
        unsupported = prepared.unsupported.get(name)
        if unsupported:
            warnings.append(
                f"{kind.capitalize()} {name} uses features this runtime does not support yet: "
                + ", ".join(sorted(unsupported))
            )
    return Preparation(warnings=warnings, functions=sorted(defined))
