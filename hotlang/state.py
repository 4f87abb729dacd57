"""Per-execution mutable state (steps, depth, limits, hooks).

Executions are serialised by a process-wide lock (see runtime.py), so the hot path can use
plain module attributes instead of passing a context object through every closure.
"""

from __future__ import annotations

import time

from .errors import Cancelled, LimitExceeded


class State:
    __slots__ = (
        "steps",
        "max_steps",
        "depth",
        "max_depth",
        "deadline",
        "max_seconds",
        "hooks",
        "variables",
        "max_vars",
        "test_failures",
        "max_value_bytes",
        "stdout",
        "capture",
        "program",
        "next_check",
    )

    def __init__(self):
        self.reset()

    def reset(self, limits=None, hooks=None):
        self.steps = 0
        self.next_check = 1024
        self.depth = 0
        self.max_steps = getattr(limits, "max_steps", None) or 10**12
        self.max_depth = getattr(limits, "max_depth", None) or 10**6
        self.max_seconds = getattr(limits, "max_seconds", None)
        self.deadline = (time.monotonic() + self.max_seconds) if self.max_seconds else None
        self.max_value_bytes = getattr(limits, "max_value_bytes", None)
        self.hooks = hooks
        self.variables = []
        self.max_vars = 10000
        self.test_failures = None
        self.stdout = []
        self.capture = hooks is not None
        self.program = None  # the running Program, for reflection (`namespaces()`)


S = State()


def check_budget():
    """Called every 1024 steps: wall time, cancellation and the step limit."""
    S.next_check = S.steps + 1024
    if S.steps > S.max_steps:
        raise LimitExceeded(f"step limit exceeded ({S.max_steps} steps)")
    if S.deadline is not None and time.monotonic() > S.deadline:
        raise LimitExceeded(f"time limit exceeded ({S.max_seconds} seconds)")
    hooks = S.hooks
    if hooks is not None and hooks.is_cancelled():
        raise Cancelled("run cancelled")


MAX_STRING_CHARS = 10_000_000  # longest Str any operation may build, whatever the limits


def check_string_size(text: str) -> None:
    """Strings may not outgrow the run's value-size limit (nor MAX_STRING_CHARS) while code
    runs, so a doubling loop ends with a clear error long before memory runs out."""
    cap = min(MAX_STRING_CHARS, S.max_value_bytes or MAX_STRING_CHARS)
    if len(text) > cap:
        raise LimitExceeded(
            f"string size limit exceeded ({len(text)} characters; the value size limit is {cap})"
        )
