"""Calling functions: `::hot::lang`, and `::hot::info`."""

from __future__ import annotations

from .. import ast as A
from ..calls import call_value, consume
from ..state import current
from ..values import NsValue, hot_str
from .registry import LIB, lib

LANG = "::hot::lang"


@lib(LANG, "call", core=True)
def call(f, args=None, on_err=None):
    args = args if args is not None else []
    if args.__class__ is not list:
        args = [args]
    r = call_value(f, args)
    if on_err is None:
        return consume(r)
    return r


@lib(LANG, "apply")
def apply(f, *args):
    if args and args[-1].__class__ is list:
        args = list(args[:-1]) + args[-1]
    return call_value(f, list(args))


@lib(LANG, "identity")
def identity(v):
    return v


@lib("::hot::info", "version", core=True)
def version():
    return "2.6.9-hotlang"


# -- reflection -----------------------------------------------------------------------------
@lib(LANG, "namespaces", core=True)
def namespaces():
    """Every namespace the program can reach: its own, then the library's."""
    own = list(current().program.namespaces) if current().program is not None else []
    return own + sorted(ns for ns in LIB if ns not in own)


@lib(LANG, "functions-in-namespace", core=True)
def functions_in_namespace(ns):
    name = ns.name if ns.__class__ is NsValue else hot_str(ns)
    program = current().program
    own = program.namespaces.get(name) if program is not None else None
    if own is not None:
        return [var for var, node in own.var_node.items() if _is_function(node)]
    return sorted(LIB.get(name, {}))


def _is_function(node):
    return isinstance(node.value, (A.FnDef, A.QRef))
