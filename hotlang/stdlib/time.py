"""Time: `::hot::time`."""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime

from ..errors import HotRuntimeError
from ..values import Err
from .registry import lib

T = "::hot::time"


@lib(T, "now")
def now():
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _epoch(v, scale):
    if v is None:
        return int(_time.time() * scale)
    if v.__class__ is str:
        ms = parse_iso(v)
        return ms if ms.__class__ is not int else ms * scale // 1000
    raise HotRuntimeError("expected an ISO-8601 time string (Instant values are not supported)")


@lib(T, "epoch-millis")
def epoch_millis(v=None):
    return _epoch(v, 1000)


@lib(T, "epoch-seconds")
def epoch_seconds(v=None):
    return _epoch(v, 1)


@lib(T, "format-iso")
def format_iso(ms):
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


@lib(T, "parse-iso")
def parse_iso(s):
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return Err({"message": f"invalid ISO 8601 time: {s}"})
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)
