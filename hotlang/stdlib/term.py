"""ANSI colours for terminal text: `::hot::term`."""

from __future__ import annotations

from ..values import hot_str
from .registry import LIB, lib

TERM = "::hot::term"
COLORS = {
    "black": 30,
    "red": 31,
    "green": 32,
    "yellow": 33,
    "blue": 34,
    "magenta": 35,
    "cyan": 36,
    "white": 37,
}
COLORS.update({f"bright-{name}": code + 60 for name, code in list(COLORS.items())})


@lib(TERM, "color")
def color(code, text):
    return f"\x1b[{hot_str(code)}m{hot_str(text)}\x1b[0m"


def _colorizer(code):
    return lambda text: color(code, text)


for _name, _code in COLORS.items():
    lib(TERM, _name)(_colorizer(_code))
LIB[TERM]["colors"] = dict(COLORS)
