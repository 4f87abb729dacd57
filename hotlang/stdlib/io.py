"""Printing: `::hot::io` (captured into the run's stdout)."""

from __future__ import annotations

from ..state import current
from ..values import (
    hot_str,
    repr_value,
)
from .registry import lib

IO = "::hot::io"


def _emit(text, level="info"):
    state = current()
    out = state.stdout
    if len(out) < 10000:
        out.append(text)
    sink = getattr(state.hooks, "log", None) if state.hooks is not None else None
    if callable(sink):  # the host keeps it in the run's log, in order, as it is printed
        sink(level, text)


def _printer(end, level):
    def emit(*args):
        """Prints its arguments and returns the printed text, as Hot does."""
        text = " ".join(hot_str(a) for a in args) + end
        _emit(text, level)
        return text

    return emit


# stdout and stderr both go to the run's captured output and log (stderr as errors)
for _name, _end, _level in (
    ("println", "\n", "info"),
    ("print", "", "info"),
    ("eprintln", "\n", "error"),
    ("eprint", "", "error"),
):
    lib(IO, _name, core=True)(_printer(_end, _level))


@lib(IO, "tap", core=True)
def tap(v, label=None):
    _emit((hot_str(label) + ": " if label is not None else "") + repr_value(v) + "\n")
    return v
