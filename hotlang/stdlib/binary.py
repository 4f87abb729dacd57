"""Bit operations on Int (`::hot::bit`) and binary data helpers (`::hot::bytes`)."""

from __future__ import annotations

import struct
import zlib
from decimal import Decimal

from ..errors import HotRuntimeError
from ..values import Err, hot_str, type_name, wrap_int
from . import lib

BIT = "::hot::bit"
BY = "::hot::bytes"


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


def _bytes(v, fn):
    if v.__class__ is bytes:
        return v
    if v.__class__ is str:
        return v.encode()
    if v.__class__ is list:
        return bytes(v)
    raise HotRuntimeError(f"{fn}: expected Bytes, got {type_name(v)}")


def _order(endian):
    e = hot_str(endian).lower() if endian is not None else "big"
    return "little" if e in ("little", "le") else "big"


@lib(BY, "from-int")
def from_int(n, size=8, endian=None):
    try:
        return _int(n, "from-int").to_bytes(size, _order(endian), signed=n < 0)
    except OverflowError:
        return Err({"message": f"from-int: {n} does not fit in {size} bytes"})


@lib(BY, "to-int")
def to_int(b, endian=None):
    return int.from_bytes(_bytes(b, "to-int"), _order(endian), signed=False)


@lib(BY, "to-uint")
def to_uint(b, endian=None):
    return int.from_bytes(_bytes(b, "to-uint"), _order(endian), signed=False)


@lib(BY, "to-sint")
def to_sint(b, endian=None):
    return int.from_bytes(_bytes(b, "to-sint"), _order(endian), signed=True)


@lib(BY, "get")
def get(b, i):
    b = _bytes(b, "get")
    return b[i] if 0 <= i < len(b) else None


@lib(BY, "to-vec")
def to_vec(b):
    return list(_bytes(b, "to-vec"))


@lib(BY, "crc32")
def crc32(b):
    return zlib.crc32(_bytes(b, "crc32"))


@lib(BY, "index-of")
def index_of(b, needle, start=0):
    b = _bytes(b, "index-of")
    if needle.__class__ is int:
        needle = bytes([needle])
    i = b.find(_bytes(needle, "index-of"), start) if start <= len(b) else -1
    return None if i < 0 else i


@lib(BY, "xor")
def xor(a, b):
    a, b = _bytes(a, "xor"), _bytes(b, "xor")
    if len(a) != len(b):
        return Err({"message": "xor: Bytes must have the same length"})
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


@lib(BY, "to-float")
def to_float(b, endian=None):
    b = _bytes(b, "to-float")
    fmt = {4: "f", 8: "d"}.get(len(b))
    if fmt is None:
        return Err({"message": "to-float: expected 4 or 8 bytes"})
    prefix = "<" if _order(endian) == "little" else ">"
    return Decimal(repr(struct.unpack(prefix + fmt, b)[0]))


@lib(BY, "from-float")
def from_float(v, size=8, endian=None):
    fmt = {4: "f", 8: "d"}.get(size)
    if fmt is None:
        return Err({"message": "from-float: size must be 4 or 8"})
    prefix = "<" if _order(endian) == "little" else ">"
    return struct.pack(prefix + fmt, float(v))


@lib(BY, "length")
def length(b):
    return len(_bytes(b, "length"))
