"""Bit operations on Int: `::hot::bit`."""

from __future__ import annotations

from ..errors import HotRuntimeError
from ..values import type_name, wrap_int
from .registry import lib

BIT = "::hot::bit"


def _int(v, fn):
    if v.__class__ is not int:
        raise HotRuntimeError(f"{fn}: expected an Int, got {type_name(v)}")
    return v


@lib(BIT, "and")
def bit_and(a, b):
    return _int(a, "and") & _int(b, "and")


@lib(BIT, "or")
def bit_or(a, b):
    return _int(a, "or") | _int(b, "or")


@lib(BIT, "xor")
def bit_xor(a, b):
    return _int(a, "xor") ^ _int(b, "xor")


@lib(BIT, "not")
def bit_not(a):
    return ~_int(a, "not")


@lib(BIT, "shift-left")
def shift_left(a, n):
    return wrap_int(_int(a, "shift-left") << (_int(n, "shift-left") & 63))


@lib(BIT, "shift-right")
def shift_right(a, n):
    return _int(a, "shift-right") >> (_int(n, "shift-right") & 63)
