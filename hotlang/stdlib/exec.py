"""Halting and containment: `::hot::exec` and `::hot::internal::exec`."""

from __future__ import annotations

from ..calls import call_value, err_message
from ..errors import Cancelled, HotHalt, HotRuntimeError
from ..values import (
    Err,
    hot_str,
)
from .registry import lib
from .type import failure_payload

EX = "::hot::exec"


@lib(EX, "fail", core=True, mode="raw")
def fail(msg=None, data=None):
    if msg.__class__ is Err:
        data = msg.value if data is None else data
        msg = err_message(msg.value)
    m = hot_str(msg) if msg is not None else "failed"
    raise HotHalt(m, data, kind="fail")


@lib(EX, "cancel", core=True)
def cancel(msg=None, data=None):
    raise Cancelled(hot_str(msg) if msg is not None else "cancelled", data)


@lib("::hot::internal::exec", "contain", mode="strict")
def contain(thunk, args=None):
    """Run a function; a halt becomes an Err value instead of ending the run."""
    try:
        return call_value(thunk, list(args or []))
    except HotHalt as h:
        return Err(failure_payload(h))
    except Cancelled as c:
        # `cancel` inside a contained call ends that call only, as an Err
        message = str(c) or "cancelled"
        return Err({"msg": message, "message": message, "err": c.data, "cancelled": True})
    except HotRuntimeError as e:
        return Err({"msg": e.message, "message": e.message, "err": None})
