"""Per-execution state: one `Execution` shared by every thread of a run, and one `State` per
thread that runs Hot code.

The hot path (every call) counts steps and depth on its thread's `State`, reached through a
thread-local (`CURRENT.state`), so `parallel` branches and `pmap` workers run concurrently
without locks on the counters. Every 1,024 steps a thread adds its count to the execution's
total (`check_budget`), where the step limit, the time limit and cancellation are decided for
all its threads at once.
"""

from __future__ import annotations

import threading
import time

from .errors import Cancelled, LimitExceeded


class Execution:
    """What the threads of one execution share: the step total, the deadline, cancellation,
    and the run's own mutable context (ctx values set by the code, secrets, open handles)."""

    def __init__(self, limits=None, hooks=None):
        self.lock = threading.Lock()
        self.steps = 0
        self.max_steps = getattr(limits, "max_steps", None) or 10**12
        self.max_seconds = getattr(limits, "max_seconds", None)
        self.max_threads = getattr(limits, "max_threads", None) or 8
        self.deadline = (time.monotonic() + self.max_seconds) if self.max_seconds else None
        self.hooks = hooks
        self.cancelled = None  # the reason, once the run (or every branch) must stop
        self.context = {}  # ::hot::ctx/set values, for this run only
        self.secrets = []  # values set with ::hot::ctx/set-secret: masked by the host
        self.handles = {}  # open TCP connections and the like, closed when the run ends

    def add_steps(self, n):
        with self.lock:
            self.steps += n
            return self.steps

    def cancel(self, reason):
        if self.cancelled is None:
            self.cancelled = reason

    def remaining(self):
        """Seconds left before the run's time limit (None: no limit)."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())


class CancelToken:
    """Cancellation of one parallel group (and of the groups nested in its branches)."""

    __slots__ = ("reason", "parent")

    def __init__(self, parent=None):
        self.reason = None
        self.parent = parent

    def cancelled(self):
        token = self
        while token is not None:
            if token.reason is not None:
                return token.reason
            token = token.parent
        return None


# what a branch thread shares with the thread that started it (State.fork)
_SHARED = (
    "max_depth",
    "hooks",
    "variables",
    "max_vars",
    "test_failures",
    "max_value_bytes",
    "stdout",
    "capture",
    "program",
    "ex",
)


class State:
    __slots__ = ("steps", "reported", "next_check", "depth", "token", *_SHARED)

    def __init__(self, limits=None, hooks=None):
        self.steps = 0
        self.reported = 0
        self.next_check = 1024
        self.depth = 0
        self.max_depth = getattr(limits, "max_depth", None) or 10**6
        self.max_value_bytes = getattr(limits, "max_value_bytes", None)
        self.hooks = hooks
        self.variables = []
        self.max_vars = 10000
        self.test_failures = None
        self.stdout = []
        self.capture = hooks is not None
        self.program = None  # the running Program, for reflection (`namespaces()`)
        self.ex = Execution(limits, hooks)
        self.token = None

    def fork(self, token):
        """The state of a new thread of the same execution, in the parallel group `token`: its
        own counters (a branch starts on a fresh stack), everything else shared."""
        branch = State.__new__(State)
        branch.steps = branch.reported = branch.depth = 0
        branch.next_check = 1024
        branch.token = token
        for name in _SHARED:
            setattr(branch, name, getattr(self, name))
        return branch


class _Current(threading.local):
    # a thread that runs no execution (library unit tests, the compiler) sees this default
    state = State()


CURRENT = _Current()


def current() -> State:
    return CURRENT.state


def enter(state: State) -> None:
    """Make state the current thread's."""
    CURRENT.state = state


def check_budget():
    """Called every 1024 steps of a thread: the run's step total, wall time, cancellation."""
    s = CURRENT.state
    s.next_check = s.steps + 1024
    ex = s.ex
    total = ex.add_steps(s.steps - s.reported)
    s.reported = s.steps
    if total > ex.max_steps:
        raise LimitExceeded(f"step limit exceeded ({ex.max_steps} steps)")
    check_interrupts(s)


def check_interrupts(s=None):
    """The time limit and cancellation (of the run, or of this branch's parallel group); called
    by the step check and by host calls that wait."""
    s = s if s is not None else CURRENT.state
    ex = s.ex
    if ex.deadline is not None and time.monotonic() > ex.deadline:
        raise LimitExceeded(f"time limit exceeded ({ex.max_seconds} seconds)")
    if ex.cancelled is not None:
        raise Cancelled(ex.cancelled)
    if s.token is not None:
        reason = s.token.cancelled()
        if reason is not None:
            raise Cancelled(reason)
    hooks = ex.hooks
    if hooks is not None and hooks.is_cancelled():
        ex.cancel("run cancelled")
        raise Cancelled("run cancelled")


MAX_STRING_CHARS = 10_000_000  # longest Str any operation may build, whatever the limits


def check_string_size(text: str) -> None:
    """Strings may not outgrow the run's value-size limit (nor MAX_STRING_CHARS) while code
    runs, so a doubling loop ends with a clear error long before memory runs out."""
    cap = min(MAX_STRING_CHARS, CURRENT.state.max_value_bytes or MAX_STRING_CHARS)
    if len(text) > cap:
        raise LimitExceeded(
            f"string size limit exceeded ({len(text)} characters; the value size limit is {cap})"
        )
