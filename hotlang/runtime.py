"""Public API: prepare(files) and execute(prepared, fn, args, hooks, limits)."""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass, field

from .analysis import unsupported_features
from .calls import HotFn, call_hot, call_value, consume, err_message
from .errors import Cancelled, HotError, HotHalt, LimitExceeded
from .evaluator import CAP
from .jsonmap import FAILURE_TYPE, from_json, to_json
from .program import Program, gc_paused
from .state import State, current, enter
from .stdlib.tcp import close_all
from .values import Err, TailCall

# One execution at a time per process: the evaluator keeps its counters in module state.
_LOCK = threading.RLock()
_STACK_BYTES = 512 * 1024 * 1024


class Hooks:
    """Host callbacks. Subclass and override what the platform provides.

    Besides the callbacks, a host hands the I/O modules its services: each getter returns the
    service, or None where this host has none (the module then fails with a clear error at
    the call). Their interfaces are duck-typed; `hostio/` has the reference implementations
    (see docs/hotlang.md, "Hooks").
    """

    def ctx_get(self, key):
        return None

    def send(self, event_type, data):
        return None

    def stream_data(self, data_type, payload):
        return None

    def on_var(self, ns, var, value_json, start, stop):
        return None

    def is_cancelled(self):
        return False

    def log(self, level, message):
        """A printed line (`println`, ...) or a runtime line (HTTP requests, ...), in order."""
        return

    def add_secret(self, value):
        """A value the code set with `::hot::ctx/set-secret`: mask it wherever it shows."""
        return

    def http_client(self):
        return None

    def store_backend(self):
        return None

    def embed(self, texts):
        """Vectors of texts for stores with the default embedding."""
        raise NotImplementedError("no default embedding in this host")

    def resources(self):
        return None

    def file_store(self):
        return None

    def task_service(self):
        return None

    def tcp_connect(self, host, port, timeout, nodelay):
        raise NotImplementedError("TCP is not available in this host")


@dataclass
class Limits:
    max_steps: int | None = 10_000_000
    max_seconds: float | None = 30.0
    max_depth: int | None = 2_000
    max_value_bytes: int | None = 10_000_000
    # branch threads one execution may run at once (`parallel`, `pmap`)
    max_threads: int | None = 8


@dataclass
class PrepareLimits:
    """Bounds on `prepare`, so no uploaded bundle can hold a worker: compile work is linear in
    the size of the code, and this caps the total."""

    max_seconds: float | None = 10.0


@dataclass
class Outcome:
    status: str
    result: object = None
    error: str | None = None
    variables: list = field(default_factory=list)
    stdout: str = ""
    secrets: list = field(default_factory=list)  # values set with ::hot::ctx/set-secret


class Prepared:
    def __init__(self, program: Program):
        self.program = program
        self.functions = program.functions()
        self.errors = program.errors
        self.unsupported = unsupported_features(program)


def tool_schemas(prepared: Prepared, functions) -> dict:
    """``{"::ns/var": {"input": schema, "output": schema or None}}`` for the named functions
    of a prepared program: JSON Schemas worked from their signatures (``toolspec``)."""
    from .program import load_prelude
    from .stdlib import PRELUDE
    from .toolspec import tool_specs

    load_prelude()
    specs = tool_specs([*PRELUDE, prepared.program])
    return {
        name: {"input": specs[name]["input-schema"], "output": specs[name]["output-schema"]}
        for name in functions
        if name in specs
    }


def prepare(files: dict, limits: PrepareLimits | None = None) -> Prepared:
    """Parse and resolve all sources of a bundle (dict of path -> source text).

    Exceeding `limits.max_seconds` stops preparation with an entry in `errors`.
    """
    limits = limits if limits is not None else PrepareLimits()
    program = Program()
    if limits.max_seconds:
        program.max_prepare_seconds = limits.max_seconds
        program.deadline = time.monotonic() + limits.max_seconds
    with gc_paused():
        try:
            for path in sorted(files):
                text = files[path]
                if isinstance(text, bytes):
                    text = text.decode("utf-8", errors="replace")
                program.add_source(path, text)
            program.compile()
        except LimitExceeded:
            pass  # the program recorded where it stopped in its errors
        return Prepared(program)


def _failure(message, err=None):
    return {"$type": FAILURE_TYPE, "$val": {"msg": message, "err": to_json(err)}}


def _call_with_deep_recursion(fn, box):
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 200_000))
    try:
        box["value"] = fn()
    except BaseException as e:  # handed back to the caller's thread
        box["error"] = e
    finally:
        sys.setrecursionlimit(old)


def _start_with_large_stack(target, name: str) -> threading.Thread:
    prev = threading.stack_size()
    threading.stack_size(_STACK_BYTES)
    try:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
    finally:
        threading.stack_size(prev)
    return thread


class _Executor:
    """One long-lived thread with a large stack per process runs the executions (the callers
    hold ``_LOCK``, so they come one at a time): starting a thread with such a stack for each
    one cost about half a millisecond. A caller that stopped waiting (an exception in its
    thread) leaves the thread busy; the next one then gets a thread of its own, as before."""

    def __init__(self):
        self.requests = queue.SimpleQueue()
        self.busy = False
        self.pid = os.getpid()
        _start_with_large_stack(self._serve, "hotlang-exec")

    def _serve(self):
        while True:
            fn, box, done = self.requests.get()
            try:
                _call_with_deep_recursion(fn, box)
            finally:
                self.busy = False
                done.set()

    def run(self, fn, box) -> None:
        self.busy = True
        done = threading.Event()
        self.requests.put((fn, box, done))
        done.wait()


_executor: _Executor | None = None


def _run_isolated(fn):
    """Run fn on a thread with a large stack so deep (non-tail) recursion cannot crash."""
    global _executor
    box = {}
    if _executor is None or _executor.pid != os.getpid():  # none yet, or inherited by a fork
        _executor = _Executor()
    if _executor.busy:
        _start_with_large_stack(lambda: _call_with_deep_recursion(fn, box), "hotlang-exec").join()
    else:
        _executor.run(fn, box)
    if "error" in box:
        raise box["error"]
    return box["value"]


def execute(
    prepared: Prepared,
    fn_name: str,
    args=None,
    hooks: Hooks | None = None,
    limits: Limits | None = None,
) -> Outcome:
    hooks = hooks if hooks is not None else Hooks()
    limits = limits if limits is not None else Limits()
    with _LOCK:
        return _run_isolated(lambda: _execute(prepared, fn_name, args or [], hooks, limits))


def _execute(prepared, fn_name, args, hooks, limits):
    program = prepared.program
    program.reset_all()
    state = State(limits, hooks)
    state.program = program
    enter(state)
    try:
        return _outcome(state, *_run_entry(program, fn_name, args, limits))
    except Cancelled as e:
        return _outcome(state, "cancelled", None, str(e) or "cancelled")
    except HotHalt as e:
        return _outcome(state, "failed", _failure(e.message, e.err), e.message)
    except RecursionError:
        msg = f"recursion depth limit exceeded ({state.depth} calls)"
        return _outcome(state, "failed", _failure(msg), msg)
    except MemoryError:
        return _outcome(state, "failed", _failure("memory limit exceeded"), "memory limit exceeded")
    except HotError as e:  # limits, runtime errors
        return _outcome(state, "failed", _failure(str(e)), str(e))
    except Exception as e:  # an interpreter bug must become a failed run, not a crash
        msg = f"internal error: {type(e).__name__}: {e}"
        return _outcome(state, "failed", _failure(msg), msg)
    finally:
        close_all(state.ex)  # connections the code left open


def _run_entry(program, fn_name, args, limits):
    """(status, result JSON, error) of calling the entry function."""
    hot_args = [from_json(a) for a in args]
    f = program.lookup_function(fn_name)
    result = call_value(f, hot_args) if f.__class__ is not HotFn else _call_entry(f, hot_args)
    if result.__class__ is Err:
        msg = err_message(result.value)
        return "failed", _failure(msg, result.value), msg
    js = to_json(consume(result))
    _check_size(js, limits)
    return "succeeded", js, None


def _outcome(state, status, result, error):
    return Outcome(
        status,
        result,
        error,
        state.variables,
        "".join(state.stdout),
        list(state.ex.secrets),
    )


def _check_size(js, limits):
    if not limits.max_value_bytes:
        return
    size = len(json.dumps(js, default=str))
    if size > limits.max_value_bytes:
        raise LimitExceeded(f"value size limit exceeded ({size} > {limits.max_value_bytes} bytes)")


def _call_entry(f, args):
    """Call the entry function with its own bindings captured as run variables."""
    state = current()
    ov = f.select(args)
    env = ov.bind(f, args)
    env[CAP] = True
    state.depth += 1
    state.steps += 1
    try:
        r = ov.body(env)
    finally:
        state.depth -= 1
    if r.__class__ is TailCall:
        return call_hot(r.fn, r.args) if r.fn.__class__ is HotFn else r
    return r


# -- test runner (used by the CLI) -------------------------------------------------------------
@dataclass
class TestResult:
    name: str
    file: str
    line: int
    passed: bool
    failures: list


def run_tests(program: Program, limits: Limits | None = None, hooks: Hooks | None = None):
    limits = limits or Limits()
    with _LOCK:
        return _run_isolated(lambda: _run_tests(program, limits, hooks))


def _run_tests(program, limits, hooks):
    results = []
    for ns, name, node in program.tests():
        qname = f"{ns.name}/{name}"
        state = State(limits, hooks)
        state.capture = False
        state.program = program
        enter(state)
        state.test_failures = []
        failures = state.test_failures
        try:
            f = program.lookup_function(qname)
            r = call_hot(f, []) if isinstance(f, HotFn) else None
            if r.__class__ is Err:
                consume(r)
        except HotHalt as e:
            failures.append(f"halted: {e.message}")
        except (HotError, RecursionError) as e:
            failures.append(f"error: {e}")
        except Exception as e:  # an interpreter bug must not stop the whole run
            failures.append(f"internal error: {type(e).__name__}: {e}")
        finally:
            close_all(state.ex)
        results.append(TestResult(qname, node.loc[0], node.loc[1], not failures, failures))
    return results
