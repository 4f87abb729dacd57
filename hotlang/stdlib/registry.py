"""The registry of native library functions: `lib` registers one under its namespace."""

from __future__ import annotations

from ..values import Builtin

LIB: dict[str, dict[str, Builtin]] = {}
CORE: dict[str, Builtin] = {}
# the Program of the library's Hot-written part, once loaded (program.load_prelude)
PRELUDE: list = []


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
