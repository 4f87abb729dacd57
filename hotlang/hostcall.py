"""Calling the host for I/O: waits that the run's limits and cancellation can interrupt.

A host call that may wait (an HTTP exchange, a TCP read) runs on a helper thread while the
Hot thread waits for it, checking the run's time limit and cancellation (of the run or of
its parallel group) every 50 ms. An interrupted wait ends the Hot code at once; the
abandoned call finishes on its own, bounded by the host's own timeouts, and its result is
dropped. The time spent waiting is part of the run's time.
"""

from __future__ import annotations

import threading
import time

from .errors import HotRuntimeError
from .state import check_interrupts, current

POLL_SECONDS = 0.05


def hooks_or_fail(what):
    hooks = current().hooks
    if hooks is None:
        raise HotRuntimeError(f"{what} is not available: this run has no host")
    return hooks


def host_service(method, what):
    """The host object a Hooks method returns (the HTTP client, the store, ...), or a clear
    error where this host has none."""
    hooks = hooks_or_fail(what)
    getter = getattr(hooks, method, None)
    service = getter() if callable(getter) else None
    if service is None:
        raise HotRuntimeError(f"{what} is not available in this host")
    return service


def blocking(fn, *args):
    """fn(*args) on a helper thread; the current Hot thread waits, interruptibly."""
    state = current()
    check_interrupts(state)
    box = {}
    done = threading.Event()

    def target():
        try:
            box["value"] = fn(*args)
        except BaseException as e:  # handed to the waiting thread
            box["error"] = e
        finally:
            done.set()

    threading.Thread(target=target, name="hotlang-io", daemon=True).start()
    while not done.wait(POLL_SECONDS):
        check_interrupts(state)
    if "error" in box:
        raise box["error"]
    return box["value"]


def pause(seconds):
    """Sleep ``seconds`` (polling the host, say), interruptibly; counted in the run's time."""
    state = current()
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        check_interrupts(state)
        time.sleep(min(POLL_SECONDS, left))
    check_interrupts(state)


def log(level, message):
    """A runtime line in the run's log (the host keeps it with the printed output)."""
    hooks = current().hooks
    sink = getattr(hooks, "log", None) if hooks is not None else None
    if callable(sink):
        sink(level, message)


def remaining_seconds(default):
    """default, shortened to what is left of the run's time."""
    left = current().ex.remaining()
    return default if left is None else min(default, left)
