"""Random values: `::hot::random`."""

from __future__ import annotations

import base64 as _b64
import hmac as _hmac
import os
import secrets

from ..errors import LimitExceeded
from ..values import as_bytes
from .registry import lib

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@lib("::hot::random", "random-string", core=True)
def random_string(n=16, charset=None):
    if n > 1_000_000:
        raise LimitExceeded("string size limit exceeded")
    chars = charset if charset.__class__ is str and charset else _ALNUM
    return "".join(secrets.choice(chars) for _ in range(max(n, 0)))


@lib("::hot::random", "random-bytes", core=True)
def random_bytes(n=16, fmt=None):
    if n > 1_000_000:
        raise LimitExceeded("bytes size limit exceeded")
    raw = os.urandom(max(n, 0))
    if fmt == "hex":
        return raw.hex()
    if fmt == "base64":
        return _b64.b64encode(raw).decode()
    return raw


@lib("::hot::random", "secure-compare", core=True)
def secure_compare(a, b):
    return _hmac.compare_digest(as_bytes(a, "secure-compare"), as_bytes(b, "secure-compare"))
