"""Native implementations of the Hot standard library subset.

Each function is registered under its hot-std namespace (e.g. `::hot::coll/map`) and, when
hot-std marks it core, under its bare name too.
"""

from __future__ import annotations

from ..values import Builtin

LIB: dict[str, dict[str, Builtin]] = {}
CORE: dict[str, Builtin] = {}


def lib(ns, name, core=False, mode="strict"):
    """Register a native function: `mode` is strict, raw (Results kept) or lazy (thunks)."""

    def deco(fn):
        b = Builtin(name, fn, mode, f"{ns}/{name}")
        LIB.setdefault(ns, {})[name] = b
        if core:
            CORE[name] = b
        return fn

    return deco


def alias(ns, name, target_ns, target_name=None, core=False):
    b = LIB[target_ns][target_name or name]
    LIB.setdefault(ns, {})[name] = b
    if core:
        CORE[name] = b


from . import binary as _binary  # noqa: E402,F401
from . import coll as _coll  # noqa: E402,F401
from . import core as _core  # noqa: E402,F401
from . import data as _data  # noqa: E402,F401
from . import platform as _platform  # noqa: E402,F401
from . import regex as _regex  # noqa: E402,F401
from . import strings as _strings  # noqa: E402,F401
from . import web as _web  # noqa: E402,F401
