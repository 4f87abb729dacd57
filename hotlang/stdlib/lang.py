"""Calling functions: `::hot::lang`, and `::hot::info`."""

from __future__ import annotations

from ..calls import call_value, consume
from .registry import lib

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
