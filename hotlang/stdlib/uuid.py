"""UUIDs: `::hot::uuid`."""

from __future__ import annotations

import os
import re
import time as _time
import uuid as _uuid

from ..values import Err
from .registry import lib


def _uuid7():
    ms = int(_time.time() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(_uuid.UUID(int=value))


@lib("::hot::uuid", "Uuid", core=True)
def Uuid(version=4):
    if version.__class__ is str:
        try:
            return str(_uuid.UUID(version))
        except ValueError:
            return Err({"message": f"invalid UUID: {version}"})
    if version == 7:
        return _uuid7()
    return str(_uuid.uuid4())


@lib("::hot::uuid", "is-uuid", core=True)
def is_uuid(v):
    if v.__class__ is not str:
        return False
    return (
        re.fullmatch(
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
            r"[0-9a-fA-F]{12}",
            v,
        )
        is not None
    )


@lib("::hot::uuid", "v4")
def uuid_v4():
    return str(_uuid.uuid4())


@lib("::hot::uuid", "v7")
def uuid_v7():
    return _uuid7()
