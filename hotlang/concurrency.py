"""Real concurrency for `parallel` blocks and `pmap`: their branches run on threads.

Python runs one thread's bytecode at a time, so this speeds up what waits (HTTP, the store,
TCP), not pure computation. Each branch thread gets its own `State` forked from the caller's
(its own step and depth counters, the execution's limits and hooks); the execution's step
total, time limit and cancellation hold for all of them. When a branch fails, its parallel
group is cancelled: the other branches stop at their next step check or host call, and the
failure is raised in the caller once every branch has stopped.

At most `Limits.max_threads` branch threads run at once per execution; a branch that finds
no free slot runs on the caller's thread, so nested groups never wait for each other.
"""

from __future__ import annotations

import sys
import threading

from .errors import Cancelled
from .state import CancelToken, current, enter

BRANCH_STACK_BYTES = 256 * 1024 * 1024  # deep (non-tail) recursion inside a branch


def _slots(ex):
    sem = ex.handles.get("\0threads")
    if sem is None:
        sem = ex.handles.setdefault("\0threads", threading.BoundedSemaphore(ex.max_threads))
    return sem


class _Branch:
    __slots__ = ("value", "error", "done")

    def __init__(self):
        self.value = self.error = None
        self.done = False


def _run_branch(state, token, work, box):
    enter(state)
    try:
        box.value = work()
    except BaseException as e:  # handed to the caller's thread
        box.error = e
        if token.reason is None:
            token.reason = "cancelled: a parallel branch failed"
    finally:
        state.ex.add_steps(state.steps - state.reported)
        box.done = True


def _start(target, args):
    previous = threading.stack_size()
    threading.stack_size(BRANCH_STACK_BYTES)
    try:
        thread = threading.Thread(target=target, args=args, name="hotlang-branch", daemon=True)
        thread.start()
    finally:
        threading.stack_size(previous)
    return thread


def run_all(works):
    """Run each zero-argument callable concurrently; their results in order, or the first
    failure (a sibling's cancellation is never reported as the cause)."""
    parent = current()
    if len(works) < 2:
        return [w() for w in works]
    token = CancelToken(parent.token)
    slots = _slots(parent.ex)
    boxes = [_Branch() for _ in works]
    threads, inline = [], []
    for work, box in zip(works, boxes, strict=True):
        if slots.acquire(blocking=False):
            state = parent.fork(token)
            threads.append(_start(_release_after, (slots, state, token, work, box)))
        else:
            inline.append((work, box))
    for work, box in inline:  # no free thread: this one does the work, in the same group
        _run_inline(parent, token, work, box)
    for thread in threads:
        thread.join()
    errors = [b.error for b in boxes if b.error is not None]
    if errors:
        causes = [e for e in errors if not isinstance(e, Cancelled)]
        raise (causes or errors)[0]
    return [b.value for b in boxes]


def _release_after(slots, state, token, work, box):
    try:
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 200_000))
        _run_branch(state, token, work, box)
    finally:
        slots.release()


def _run_inline(parent, token, work, box):
    saved = parent.token
    parent.token = token
    try:
        if token.cancelled() is not None:
            box.error = Cancelled(token.cancelled())
            return
        box.value = work()
    except BaseException as e:
        box.error = e
        if token.reason is None:
            token.reason = "cancelled: a parallel branch failed"
    finally:
        parent.token = saved


def map_concurrently(items, fn):
    """fn over items on up to `max_threads` worker threads, results in item order."""
    parent = current()
    n = len(items)
    if n < 2:
        return [fn(x) for x in items]
    results = [None] * n
    cursor = iter(range(n))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                return
            if current().token is not None and current().token.cancelled() is not None:
                raise Cancelled(current().token.cancelled())
            results[i] = fn(items[i])

    workers = min(n, max(1, parent.ex.max_threads))
    run_all([worker] * workers)
    return results
