"""Comparison: `::hot::cmp`."""

from __future__ import annotations

import operator
from decimal import Decimal

from ..errors import HotRuntimeError
from ..values import (
    hot_cmp,
    hot_eq,
    hot_str,
)
from .registry import LIB, lib

CMP = "::hot::cmp"


@lib(CMP, "eq", core=True)
def eq(a, b, *more):
    if a.__class__ is b.__class__ and a.__class__ in (int, str) and not more:
        return a == b
    if not hot_eq(a, b):
        return False
    return all(hot_eq(a, c) for c in more)


@lib(CMP, "ne", core=True)
def ne(a, b):
    return not hot_eq(a, b)


def _ordered(name, ok, fast):
    def fn(*args):
        if len(args) == 2:
            a, b = args
            ca, cb = a.__class__, b.__class__
            if (ca is int or ca is Decimal) and (cb is int or cb is Decimal):
                return fast(a, b)
        for x, y in zip(args, args[1:], strict=False):
            if x is None or y is None:
                raise HotRuntimeError(f"{name}: cannot compare null")
            if not ok(hot_cmp(x, y)):
                return False
        return True

    lib(CMP, name, core=True)(fn)
    return fn


lt = _ordered("lt", lambda c: c < 0, lambda a, b: a < b)
lte = _ordered("lte", lambda c: c <= 0, lambda a, b: a <= b)
gt = _ordered("gt", lambda c: c > 0, lambda a, b: a > b)
gte = _ordered("gte", lambda c: c >= 0, lambda a, b: a >= b)


@lib(CMP, "between", core=True)
def between(v, lo, hi):
    return hot_cmp(lo, v) <= 0 and hot_cmp(v, hi) <= 0


@lib(CMP, "in", core=True)
def in_(v, coll):
    if coll.__class__ is list:
        return any(hot_eq(v, x) for x in coll)
    if coll.__class__ is dict:
        return v in coll
    if coll.__class__ is str:
        return hot_str(v) in coll
    return False


@lib(CMP, "compare")
def compare(a, b):
    return hot_cmp(a, b)


# Two-argument fast paths for compiled calls: the same semantics, without the variadic tuple.
def _fast_cmp(op, slow):
    def fast(a, b):
        if a.__class__ is int and b.__class__ is int:
            return op(a, b)
        return slow(a, b)

    return fast


for _name, _op, _slow in (
    ("lt", operator.lt, lt),
    ("lte", operator.le, lte),
    ("gt", operator.gt, gt),
    ("gte", operator.ge, gte),
    ("eq", operator.eq, eq),
):
    LIB[CMP][_name].fast2 = _fast_cmp(_op, _slow)
