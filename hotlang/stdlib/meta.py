"""Metadata reflection: `::hot::meta` (`get`, and the core `source`).

Both take their argument lazily: what they need is the name written at the call (a local, a
namespace var or a qualified reference), which the compiler records on the argument's code.
An argument that is not a plain name is evaluated, and a function value answers for the var
it was defined as.
"""

from __future__ import annotations

from ..calls import HotFn, construct, force
from ..state import current
from .registry import LIB, lib

M = "::hot::meta"


def _namespace(name):
    program = current().program
    return program.namespaces.get(name) if program is not None and name else None


def _var_of(thunk):
    """(namespace, var name) the argument refers to, or (None, local meta) for a local."""
    ref = getattr(thunk.code, "hot_ref", None)
    if ref is not None and ref[0] == "local":
        return None, ref[1]
    if ref is not None and ref[0] == "ns":
        ns = _namespace(ref[1])
        if ns is not None and ref[2] in ns.var_node:
            return ns, ref[2]
    value = force(thunk)
    if value.__class__ is HotFn and value.ns is not None:
        return value.ns, value.name
    return None, None


@lib(M, "get", mode="lazy")
def get(var):
    ns, name = _var_of(var)
    if ns is None:
        return name  # a local's meta (or None)
    return ns.var_meta.get(name)


@lib(M, "source", core=True, mode="lazy")
def source(var):
    ns, name = _var_of(var)
    loc = ns.var_loc.get(name) if ns is not None else None
    file, line, column = loc if loc is not None else (None, None, None)
    # hotlang keeps no byte offsets: position is null
    fields = {"file": file, "line": line, "column": column, "position": None}
    return construct(LIB[M]["Source"], [fields])
