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


@lib(IO, "println", core=True)
def println(*args):
    _emit(" ".join(hot_str(a) for a in args) + "\n")
    return


@lib(IO, "print", core=True)
def print_(*args):
    _emit(" ".join(hot_str(a) for a in args))
    return


@lib(IO, "eprintln", core=True)
def eprintln(*args):
    _emit(" ".join(hot_str(a) for a in args) + "\n")
    return


@lib(IO, "eprint", core=True)
def eprint(*args):
    _emit(" ".join(hot_str(a) for a in args))
    return


@lib(IO, "tap", core=True)
def tap(v, label=None):
    _emit((hot_str(label) + ": " if label is not None else "") + repr_value(v) + "\n")
    return v
