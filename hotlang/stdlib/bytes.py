"""Binary data helpers: `::hot::bytes`."""

from __future__ import annotations

import struct
import zlib
from decimal import Decimal

from ..values import Err, as_bytes, hot_str
from .bit import _int
from .registry import lib

BY = "::hot::bytes"


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
    return int.from_bytes(as_bytes(b, "to-int"), _order(endian), signed=False)


@lib(BY, "to-uint")
def to_uint(b, endian=None):
    return int.from_bytes(as_bytes(b, "to-uint"), _order(endian), signed=False)


@lib(BY, "to-sint")
def to_sint(b, endian=None):
    return int.from_bytes(as_bytes(b, "to-sint"), _order(endian), signed=True)


@lib(BY, "get")
def get(b, i):
    b = as_bytes(b, "get")
    return b[i] if 0 <= i < len(b) else None


@lib(BY, "to-vec")
def to_vec(b):
    return list(as_bytes(b, "to-vec"))


@lib(BY, "crc32")
def crc32(b):
    return zlib.crc32(as_bytes(b, "crc32"))


@lib(BY, "index-of")
def index_of(b, needle, start=0):
    b = as_bytes(b, "index-of")
    if needle.__class__ is int:
        needle = bytes([needle])
    i = b.find(as_bytes(needle, "index-of"), start) if start <= len(b) else -1
    return None if i < 0 else i


@lib(BY, "xor")
def xor(a, b):
    a, b = as_bytes(a, "xor"), as_bytes(b, "xor")
    if len(a) != len(b):
        return Err({"message": "xor: Bytes must have the same length"})
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


@lib(BY, "to-float")
def to_float(b, endian=None):
    b = as_bytes(b, "to-float")
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
    return len(as_bytes(b, "length"))
