"""Booleans: `::hot::bool` (lazy so they can short-circuit and see Results)."""

from __future__ import annotations

from ..calls import force
from ..values import (
    Err,
    Ok,
    truthy,
)
from .registry import lib

B = "::hot::bool"


@lib(B, "if", core=True, mode="lazy")
def if_(pred, then=None, else_=None):
    if truthy(force(pred)):
        return force(then) if then is not None else None
    return force(else_) if else_ is not None else None


@lib(B, "and", core=True, mode="lazy")
def and_(*args):
    v = True
    for a in args:
        v = force(a)
        if not truthy(v):
            return v
    return v.value if v.__class__ is Ok else v


@lib(B, "or", core=True, mode="lazy")
def or_(*args):
    v = None
    for a in args:
        v = force(a)
        if truthy(v):
            return v.value if v.__class__ is Ok else v
    return v if v.__class__ is not Err else None


@lib(B, "not", core=True, mode="raw")
def not_(v):
    return not truthy(v)


@lib(B, "is-truthy", core=True, mode="raw")
def is_truthy(v):
    return truthy(v)


@lib(B, "is-falsy", mode="raw")
def is_falsy(v):
    return not truthy(v)
