"""Numbers: `::hot::math`."""

from __future__ import annotations

import math
import operator
import random as _random
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from ..errors import HotRuntimeError
from ..values import (
    Err,
    TypedVal,
    hot_cmp,
    repr_value,
    type_name,
    wrap_int,
)
from .registry import LIB, lib

M = "::hot::math"


def num(v, fn):
    c = v.__class__
    if c is int or c is Decimal:
        return v
    if c is TypedVal:
        return num(v.value, fn)
    raise HotRuntimeError(f"{fn}: expected a number, got {type_name(v)} {repr_value(v)}")


def to_dec(v):
    return v if v.__class__ is Decimal else Decimal(v)


def _arith(name, op_int, op_dec):
    def fn(*args):
        if not args:
            raise HotRuntimeError(f"{name}: expected at least one argument")
        if len(args) == 1 and args[0].__class__ is list:
            args = args[0]
        acc = num(args[0], name)
        for b in args[1:]:
            b = num(b, name)
            if acc.__class__ is int and b.__class__ is int:
                acc = wrap_int(op_int(acc, b))
            else:
                acc = op_dec(to_dec(acc), to_dec(b))
        return acc

    lib(M, name, core=True)(fn)
    return fn


_add = _arith("add", lambda a, b: a + b, lambda a, b: a + b)
_sub = _arith("sub", lambda a, b: a - b, lambda a, b: a - b)
_mul = _arith("mul", lambda a, b: a * b, lambda a, b: a * b)
_LO, _HI = -(1 << 63), (1 << 63) - 1


# two-Int fast paths: the overwhelmingly common case in loops
@lib(M, "add", core=True)
def add(*args):
    if len(args) == 2:
        a, b = args
        if a.__class__ is int and b.__class__ is int:
            r = a + b
            return r if _LO <= r <= _HI else wrap_int(r)
    return _add(*args)


@lib(M, "sub", core=True)
def sub(*args):
    if len(args) == 2:
        a, b = args
        if a.__class__ is int and b.__class__ is int:
            r = a - b
            return r if _LO <= r <= _HI else wrap_int(r)
    return _sub(*args)


@lib(M, "mul", core=True)
def mul(*args):
    if len(args) == 2:
        a, b = args
        if a.__class__ is int and b.__class__ is int:
            r = a * b
            return r if _LO <= r <= _HI else wrap_int(r)
    return _mul(*args)


@lib(M, "div", core=True)
def div(a, b):
    a, b = num(a, "div"), num(b, "div")
    if b == 0:
        return Err({"message": "division by zero"})
    if a.__class__ is int and b.__class__ is int:
        q, r = divmod(a, b)
        if r == 0:
            return wrap_int(q)
        return Decimal(a) / Decimal(b)
    return to_dec(a) / to_dec(b)


@lib(M, "mod", core=True)
def mod(a, b):
    a, b = num(a, "mod"), num(b, "mod")
    if b == 0:
        return Err({"message": "division by zero"})
    if a.__class__ is int and b.__class__ is int:
        return a - b * int(a / b) if abs(a) < 2**52 else int(math.fmod(a, b))
    return to_dec(a) % to_dec(b)


@lib(M, "pow", core=True)
def pow_(a, b):
    a, b = num(a, "pow"), num(b, "pow")
    if a.__class__ is int and b.__class__ is int and b >= 0:
        if b > 4096 and abs(a) > 1:
            raise HotRuntimeError("pow: exponent too large")
        return wrap_int(a**b)
    if b.__class__ is int or b == b.to_integral_value():
        return to_dec(a) ** int(b)
    return to_dec(a) ** to_dec(b)


@lib(M, "abs", core=True)
def abs_(a):
    return wrap_int(abs(a)) if a.__class__ is int else abs(num(a, "abs"))


def _minmax(name, pick):
    def fn(*args):
        if len(args) == 1 and args[0].__class__ is list:
            args = args[0]
        if not args:
            return None
        best = args[0]
        for v in args[1:]:
            if pick(hot_cmp(v, best)):
                best = v
        return best

    lib(M, name, core=True)(fn)


_minmax("min", lambda c: c < 0)
_minmax("max", lambda c: c > 0)


def _rounder(name, mode):
    def fn(v, places=None):
        v = num(v, name)
        if v.__class__ is int:
            return v
        if places is None:
            return int(v.to_integral_value(rounding=mode))
        q = Decimal(1).scaleb(-places)
        return v.quantize(q, rounding=mode)

    lib(M, name, core=True)(fn)


_rounder("round", ROUND_HALF_UP)
_rounder("floor", ROUND_FLOOR)
_rounder("ceil", ROUND_CEILING)


@lib(M, "sqrt")
def sqrt(v):
    return to_dec(num(v, "sqrt")).sqrt()


@lib(M, "is-zero", core=True)
def is_zero(v):
    return num(v, "is-zero") == 0


@lib(M, "is-pos", core=True)
def is_pos(v):
    return num(v, "is-pos") > 0


@lib(M, "is-neg", core=True)
def is_neg(v):
    return num(v, "is-neg") < 0


@lib(M, "is-even")
def is_even(v):
    return num(v, "is-even") % 2 == 0


@lib(M, "is-odd")
def is_odd(v):
    return num(v, "is-odd") % 2 != 0


@lib(M, "rand", core=True)
def rand(n=None):
    r = Decimal(str(_random.random()))
    return r if n is None else r * to_dec(num(n, "rand"))


@lib(M, "rand-int", core=True)
def rand_int(a=None, b=None):
    if a is None:
        return _random.randint(0, 2**63 - 1)
    if b is None:
        return _random.randrange(a) if a > 0 else 0
    return _random.randrange(a, b) if b > a else a


@lib(M, "inc")
def inc(v):
    return add(v, 1)


@lib(M, "dec")
def dec(v):
    return sub(v, 1)


# Two-argument fast paths for compiled calls (`add(x, 1)`): the same semantics as the variadic
# forms, without building an argument tuple when both sides are Ints.
def _fast_arith(op, slow):
    def fast(a, b):
        if a.__class__ is int and b.__class__ is int:
            r = op(a, b)
            return r if _LO <= r <= _HI else wrap_int(r)
        return slow(a, b)

    return fast


LIB[M]["add"].fast2 = _fast_arith(operator.add, add)
LIB[M]["sub"].fast2 = _fast_arith(operator.sub, sub)
LIB[M]["mul"].fast2 = _fast_arith(operator.mul, mul)
