"""Hex text: `::hot::hex`."""

from __future__ import annotations

import re

from ..values import Err, as_bytes
from .registry import lib


@lib("::hot::hex", "encode")
def hex_encode(v):
    return as_bytes(v, "encode").hex()


@lib("::hot::hex", "decode")
def hex_decode(s):
    try:
        return bytes.fromhex(s)
    except ValueError:
        return Err({"message": "invalid hex string"})


@lib("::hot::hex", "is-valid")
def hex_is_valid(s):
    return s.__class__ is str and len(s) % 2 == 0 and re.fullmatch(r"[0-9a-fA-F]*", s) is not None
