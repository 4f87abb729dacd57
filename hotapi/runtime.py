"""The runtime boundary: how the platform prepares and executes Hot code.

The platform only calls ``get_runtime().prepare(sources)`` (at deploy) and
``get_runtime().execute(...)`` (on run workers). ``HOT_RUNTIME`` names the class, so another
runtime (for example an external Hot worker) can replace the built-in ``hotlang`` interpreter
without touching the API.
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


class HotlangRuntime:
    """The built-in interpreter (``hotlang/``)."""

    name = "hotlang"

    def prepare(self, sources: dict[str, str]):
        import hotlang

        return hotlang.prepare(sources)

    def execute(self, prepared, function: str, args: list, *, hooks, limits):
        import hotlang

        return hotlang.execute(prepared, function, args, hooks=hooks, limits=limits)


@cache
def get_runtime():
    return import_string(settings.HOT_RUNTIME)()
