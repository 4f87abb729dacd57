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
    """Prints and returns the printed text (Hot returns it, newline included)."""
    text = " ".join(hot_str(a) for a in args) + "\n"
    _emit(text)
    return text


@lib(IO, "print", core=True)
def print_(*args):
    text = " ".join(hot_str(a) for a in args)
    _emit(text)
    return text


@lib(IO, "eprintln", core=True)
def eprintln(*args):
    text = " ".join(hot_str(a) for a in args) + "\n"
    _emit(text)
    return text


@lib(IO, "eprint", core=True)
def eprint(*args):
    text = " ".join(hot_str(a) for a in args)
    _emit(text)
    return text


@lib(IO, "tap", core=True)
def tap(v, label=None):
    _emit((hot_str(label) + ": " if label is not None else "") + repr_value(v) + "\n")
    return v
