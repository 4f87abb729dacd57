"""Background tasks: `::hot::task` (the types are in hot/task.hot).

The host runs them (`Hooks.task_service()`: on the platform, a task is a run of its own on
the workers, see the `tasks` app). `start` queues a function of the program with one argument
and returns a TaskInfo at once; `await` polls until the task has ended (within the waiting
run's own time limit, keeping a second to finish); `receive`, inside a task, waits for the
next message `send` put in its inbox. Every wait is interruptible: the run's time limit and
cancellation hold. A failure is a `Result.Err` with the message, as in Hot.
"""

from __future__ import annotations

from ..calls import HotFn, construct
from ..errors import HotError
from ..hostcall import hooks_or_fail, host_service, pause, remaining_seconds
from ..jsonmap import from_json, to_json
from ..state import current
from ..values import Builtin, Err, TypedVal, type_name
from .registry import LIB, lib

TK = "::hot::task"
TERMINAL = frozenset({"completed", "failed", "cancelled", "timed_out"})
AWAIT_RESERVE_SECONDS = 1.0  # what `await` leaves the waiting run to finish with
RECEIVE_POLL = (0.05, 0.25)  # first and longest pause between looks at the inbox
AWAIT_POLL = (0.1, 1.0)


def _tasks():
    return host_service("task_service", TK)


def _host(fn, op, *args):
    """``op`` of the host's task service; a host failure is an Err."""
    service = _tasks()
    try:
        return getattr(service, op)(*args)
    except HotError:
        raise  # the run's own limits and cancellation
    except Exception as e:
        return Err(f"{TK}/{fn}: {e}")


def _function_name(value):
    """The qualified name of a function of the program, or None."""
    if value.__class__ is HotFn and value.name != "fn" and value.ns is not None:
        return f"{value.ns.name}/{value.name}"
    if value.__class__ is str and value.startswith("::") and "/" in value:
        return value
    if value.__class__ is dict and value.get("$type") == "::hot::type/Fn":
        name = value.get("$val")
        return name if isinstance(name, str) and name.startswith("::") else None
    return None


def _fields(value):
    return value.value if value.__class__ is TypedVal else value


@lib(TK, "start")
def start(task_fn, args=None, options=None):
    name = _function_name(task_fn)
    if name is None:
        what = "a library function" if task_fn.__class__ is Builtin else type_name(task_fn)
        return Err(f"{TK}/start: the task must be a named function of the program, got {what}")
    program = getattr(current(), "program", None)
    if program is not None:
        try:
            program.lookup_function(name)
        except HotError as e:
            return Err(f"{TK}/start: {e}")
    options = _fields(options)
    if options is not None and options.__class__ is not dict:
        return Err(f"{TK}/start: options must be a Map (TaskOptions), got {type_name(options)}")
    info = _host("start", "start", name, to_json(args), to_json(options))
    if info.__class__ is Err:
        return info
    return construct(LIB[TK]["TaskInfo"], [from_json(info)])


def _task_id(fn, task_id):
    if task_id.__class__ is not str:
        return Err(f"{TK}/{fn}: the task id must be a Str, got {type_name(task_id)}")
    return None


@lib(TK, "cancel")
def cancel(task_id):
    return _task_id("cancel", task_id) or _host("cancel", "cancel", task_id)


@lib(TK, "send")
def send(task_id, data):
    return _task_id("send", task_id) or _host("send", "send", task_id, to_json(data))


@lib(TK, "receive")
def receive():
    """The next message of this task's inbox, waiting for one."""
    delay = RECEIVE_POLL[0]
    while True:
        got = _host("receive", "receive")
        if got.__class__ is Err:
            return got
        found, payload = got
        if found:
            return from_json(payload)
        pause(delay)
        delay = min(delay * 2, RECEIVE_POLL[1])


def _task_result(outcome):
    return construct(
        LIB[TK]["TaskResult"],
        [
            {
                "id": outcome["id"],
                "status": outcome["status"],
                "duration-ms": outcome.get("duration_ms"),
                "execution-ms": outcome.get("execution_ms"),
                "result": from_json(outcome.get("result")),
            }
        ],
    )


@lib(TK, "await")
def await_(task_id):
    """The task's TaskResult once it has ended."""
    bad = _task_id("await", task_id)
    if bad is not None:
        return bad
    hooks_or_fail(f"{TK}/await")
    delay = AWAIT_POLL[0]
    while True:
        outcome = _host("await", "result", task_id)
        if outcome.__class__ is Err or outcome["status"] in TERMINAL:
            return outcome if outcome.__class__ is Err else _task_result(outcome)
        left = remaining_seconds(float("inf")) - AWAIT_RESERVE_SECONDS
        if left <= 0:
            return Err(f"{TK}/await: timeout waiting for task {task_id} to complete")
        pause(min(delay, left))
        delay = min(delay * 2, AWAIT_POLL[1])


@lib(TK, "checkpoint")
def checkpoint(data):
    return _host("checkpoint", "checkpoint", to_json(data))


@lib(TK, "restore")
def restore(task_id=None):
    if task_id is not None:
        bad = _task_id("restore", task_id)
        if bad is not None:
            return bad
    data = _host("restore", "restore", task_id)
    return data if data.__class__ is Err else from_json(data)
