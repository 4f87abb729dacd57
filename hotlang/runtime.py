"""Public API: prepare(files) and execute(prepared, fn, args, hooks, limits)."""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field

from .analysis import unsupported_features
from .calls import HotFn, call_hot, call_value, consume, err_message
from .errors import Cancelled, HotError, HotHalt, HotRuntimeError, LimitExceeded
from .evaluator import CAP
from .jsonmap import FAILURE_TYPE, from_json, to_json
from .program import Program, gc_paused
from .state import S
from .values import Err, TailCall

# One execution at a time per process: the evaluator keeps its counters in module state.
_LOCK = threading.RLock()
_STACK_BYTES = 512 * 1024 * 1024


class Hooks:
    """Host callbacks. Subclass and override what the platform provides."""

    def ctx_get(self, key):
        return None

    def send(self, event_type, data):
        return None

    def stream_data(self, value):
        return None

    def on_var(self, ns, var, value_json, start, stop):
        return None

    def is_cancelled(self):
        return False


@dataclass
class Limits:
    max_steps: int | None = 10_000_000
    max_seconds: float | None = 30.0
    max_depth: int | None = 2_000
    max_value_bytes: int | None = 10_000_000


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


class Prepared:
    def __init__(self, program: Program):
        self.program = program
        self.functions = program.functions()
        self.errors = program.errors
        self.unsupported = unsupported_features(program)


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


def _run_isolated(fn):
    """Run fn on a thread with a large stack so deep (non-tail) recursion cannot crash."""
    box = {}

    def target():
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 200_000))
        try:
            box["value"] = fn()
        except BaseException as e:  # handed back to the caller's thread
            box["error"] = e
        finally:
            sys.setrecursionlimit(old)

    prev = threading.stack_size()
    threading.stack_size(_STACK_BYTES)
    try:
        t = threading.Thread(target=target, name="hotlang-exec", daemon=True)
        t.start()
    finally:
        threading.stack_size(prev)
    t.join()
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
    S.reset(limits, hooks)
    S.program = program
    try:
        hot_args = [from_json(a) for a in args]
        try:
            f = program.lookup_function(fn_name)
            if f.__class__ is not HotFn:
                result = call_value(f, hot_args)
            else:
                result = _call_entry(f, hot_args)
        finally:
            variables = S.variables
        stdout = "".join(S.stdout)
        if result.__class__ is Err:
            msg = err_message(result.value)
            return Outcome("failed", _failure(msg, result.value), msg, variables, stdout)
        result = consume(result)
        js = to_json(result)
        _check_size(js, limits)
        return Outcome("succeeded", js, None, variables, stdout)
    except Cancelled as e:
        return Outcome("cancelled", None, str(e) or "cancelled", S.variables, "".join(S.stdout))
    except HotHalt as e:
        return Outcome(
            "failed", _failure(e.message, e.err), e.message, S.variables, "".join(S.stdout)
        )
    except LimitExceeded as e:
        return Outcome("failed", _failure(str(e)), str(e), S.variables, "".join(S.stdout))
    except RecursionError:
        msg = f"recursion depth limit exceeded ({S.depth} calls)"
        return Outcome("failed", _failure(msg), msg, S.variables, "".join(S.stdout))
    except MemoryError:
        msg = "memory limit exceeded"
        return Outcome("failed", _failure(msg), msg, S.variables, "".join(S.stdout))
    except (HotRuntimeError, HotError) as e:
        return Outcome("failed", _failure(str(e)), str(e), S.variables, "".join(S.stdout))
    except Exception as e:  # an interpreter bug must become a failed run, not a crash
        msg = f"internal error: {type(e).__name__}: {e}"
        return Outcome("failed", _failure(msg), msg, S.variables, "".join(S.stdout))


def _check_size(js, limits):
    if not limits.max_value_bytes:
        return
    size = len(json.dumps(js, default=str))
    if size > limits.max_value_bytes:
        raise LimitExceeded(f"value size limit exceeded ({size} > {limits.max_value_bytes} bytes)")


def _call_entry(f, args):
    """Call the entry function with its own bindings captured as run variables."""
    ov = f.select(args)
    env = ov.bind(f, args)
    env[CAP] = True
    S.depth += 1
    S.steps += 1
    try:
        r = ov.body(env)
    finally:
        S.depth -= 1
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


def run_tests(program: Program, limits: Limits | None = None):
    limits = limits or Limits()
    with _LOCK:
        return _run_isolated(lambda: _run_tests(program, limits))


def _run_tests(program, limits):
    results = []
    S.reset(limits, None)
    S.capture = False
    for ns, name, node in program.tests():
        qname = f"{ns.name}/{name}"
        S.reset(limits, None)
        S.program = program
        S.test_failures = []
        failures = S.test_failures
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
        results.append(TestResult(qname, node.loc[0], node.loc[1], not failures, failures))
    return results
