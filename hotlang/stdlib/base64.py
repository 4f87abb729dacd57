"""Base64 text: `::hot::base64`."""

from __future__ import annotations

import base64 as _b64
import binascii

from ..values import Err, as_bytes
from .registry import lib


@lib("::hot::base64", "encode")
def b64_encode(v):
    return _b64.b64encode(as_bytes(v, "encode")).decode()


@lib("::hot::base64", "decode")
def b64_decode(s):
    try:
        return _b64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return Err({"message": "invalid base64 string"})


@lib("::hot::base64", "encode-url")
def b64_encode_url(v):
    return _b64.urlsafe_b64encode(as_bytes(v, "encode-url")).decode().rstrip("=")


@lib("::hot::base64", "decode-url")
def b64_decode_url(s):
    try:
        return _b64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError):
        return Err({"message": "invalid base64url string"})


@lib("::hot::base64", "is-valid")
def b64_is_valid(s):
    if s.__class__ is not str or len(s) % 4:
        return False
    try:
        _b64.b64decode(s, validate=True)
        return True
    except (binascii.Error, ValueError):
        return False
