"""Regular expressions (`::hot::regex`) on Python's `re`.

Hot uses Rust regex syntax; the common subset (classes, quantifiers, groups, anchors,
non-capturing groups) reads the same in Python. Invalid patterns return an Err.
"""

from __future__ import annotations

import re
from re import error

from ..values import Err, hot_str
from .registry import lib

R = "::hot::regex"


# Rust's `(?<name>...)` named group is Python's `(?P<name>...)` (lookbehinds stay as they are)
_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")
# Rust replacement syntax: `$$` is a dollar, `$name`/`${name}` a group by number or name
_REPLACEMENT_REF = re.compile(r"\$(?:\$|\{([^}]*)\}|([0-9A-Za-z_]+))")


def _re(pattern):
    try:
        return re.compile(_NAMED_GROUP.sub("(?P<", hot_str(pattern)))
    except re.error as e:
        return Err({"message": f"invalid regex: {e}"})


def _with(pattern, fn):
    rx = _re(pattern)
    return rx if rx.__class__ is Err else fn(rx)


def _info(m):
    return {"match": m.group(0), "start": m.start(), "end": m.end()}


@lib(R, "is-match")
def is_match(s, pattern):
    return _with(pattern, lambda rx: rx.search(hot_str(s)) is not None)


@lib(R, "first-match")
def first_match(s, pattern):
    def go(rx):
        m = rx.search(hot_str(s))
        return m.group(0) if m else None

    return _with(pattern, go)


@lib(R, "find")
def find(s, pattern):
    def go(rx):
        m = rx.search(hot_str(s))
        return _info(m) if m else None

    return _with(pattern, go)


@lib(R, "find-all")
def find_all(s, pattern):
    return _with(pattern, lambda rx: [_info(m) for m in rx.finditer(hot_str(s))])


def _expander(rep):
    """The replacement of a match: group references expanded, a missing group empty."""
    template = hot_str(rep)

    def group(m, ref):
        key = int(ref) if ref.isdigit() else ref
        try:
            return m.group(key) or ""
        except (IndexError, error):
            return ""

    def expand(m):
        return _REPLACEMENT_REF.sub(
            lambda r: "$" if r.group(0) == "$$" else group(m, r.group(1) or r.group(2)), template
        )

    return expand


@lib(R, "replace")
def replace(s, pattern, rep):
    return _with(pattern, lambda rx: rx.sub(_expander(rep), hot_str(s), count=1))


@lib(R, "replace-all")
def replace_all(s, pattern, rep):
    return _with(pattern, lambda rx: rx.sub(_expander(rep), hot_str(s)))


@lib(R, "split")
def split(s, pattern):
    return _with(pattern, lambda rx: rx.split(hot_str(s)))


def _groups(m):
    named = m.groupdict()
    out = {"match": m.group(0), "groups": list(m.groups())}
    return {**out, "named": named} if named else out


@lib(R, "capture")
def capture(s, pattern):
    def go(rx):
        m = rx.search(hot_str(s))
        return _groups(m) if m else None

    return _with(pattern, go)


@lib(R, "capture-all")
def capture_all(s, pattern):
    return _with(pattern, lambda rx: [_groups(m) for m in rx.finditer(hot_str(s))])


@lib(R, "escape")
def escape(s):
    # Rust's regex::escape only escapes meta characters (Python's also escapes more).
    return re.sub(r"([\\.+*?()|\[\]{}^$#&\-~])", r"\\\1", hot_str(s))
