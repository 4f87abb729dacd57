"""The runtime boundary: how the platform prepares and executes Hot code.

The platform only calls ``get_runtime().prepare(sources)`` (at deploy) and
``get_runtime().execute(...)`` (on run workers). ``HOT_RUNTIME`` names the class, so another
runtime (for example an external Hot worker) can replace the built-in ``hotlang`` interpreter
without touching the API.
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

import hotlang
from hotlang.errors import HotRuntimeError


class HotlangRuntime:
    """The built-in interpreter (``hotlang/``)."""

    name = "hotlang"
    # What a platform hook raises to fail the Hot call it serves with a readable message.
    hook_error = HotRuntimeError

    def prepare(self, sources: dict[str, str]):
        # Bounded, so no uploaded bundle can pin a worker while it compiles.
        limits = hotlang.PrepareLimits(max_seconds=settings.HOT_PREPARE_MAX_SECONDS)
        return hotlang.prepare(sources, limits)

    def limits(self) -> hotlang.Limits:
        """The limits every run executes under, from the settings."""
        return hotlang.Limits(
            max_steps=settings.HOT_RUN_MAX_STEPS,
            max_seconds=settings.HOT_RUN_MAX_SECONDS,
            max_depth=settings.HOT_RUN_MAX_DEPTH,
            max_value_bytes=settings.HOT_RUN_MAX_VALUE_BYTES,
        )

    def execute(self, prepared, function: str, args: list, *, hooks, limits):
        return hotlang.execute(prepared, function, args, hooks=hooks, limits=limits)

    def tool_schemas(self, prepared, functions) -> dict:
        """JSON Schemas of the functions' parameters (``input``) and result (``output``)."""
        return hotlang.tool_schemas(prepared, functions)


@cache
def get_runtime():
    return import_string(settings.HOT_RUNTIME)()
