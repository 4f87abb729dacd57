"""hotlang: a pure-Python interpreter for the core of the Hot language.

prepared = prepare({"hot/src/app/main.hot": source})
outcome = execute(prepared, "::app::main/handler", [arg], hooks=Hooks(), limits=Limits())
"""

from .errors import HotSyntaxError, LimitExceeded
from .runtime import (
    Hooks,
    Limits,
    Outcome,
    Prepared,
    PrepareLimits,
    execute,
    prepare,
    tool_schemas,
)

__all__ = [
    "prepare",
    "execute",
    "Hooks",
    "Limits",
    "PrepareLimits",
    "LimitExceeded",
    "HotSyntaxError",
    "Outcome",
    "Prepared",
    "tool_schemas",
]
