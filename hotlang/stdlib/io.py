"""Printing: `::hot::io` (captured into the run's stdout)."""

from __future__ import annotations

from ..state import S
from ..values import (
    hot_str,
    repr_value,
)
from .registry import lib

IO = "::hot::io"


def _emit(text):
    out = S.stdout
    if len(out) < 10000:
        out.append(text)


def _printer(end):
    def emit(*args):
        """Prints its arguments and returns the printed text, as Hot does."""
        text = " ".join(hot_str(a) for a in args) + end
        _emit(text)
        return text

    return emit


# stdout and stderr both go to the run's captured output
for _name, _end in (("println", "\n"), ("print", ""), ("eprintln", "\n"), ("eprint", "")):
    lib(IO, _name, core=True)(_printer(_end))


@lib(IO, "tap", core=True)
def tap(v, label=None):
    _emit((hot_str(label) + ": " if label is not None else "") + repr_value(v) + "\n")
    return v
