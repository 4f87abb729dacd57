"""String functions (`::hot::str`)."""

from __future__ import annotations

import re

from ..errors import HotRuntimeError, LimitExceeded
from ..values import hot_eq, hot_str, type_name
from .registry import alias, lib

S_ = "::hot::str"
MAX_STR = 10_000_000


def _s(v, fn):
    if v.__class__ is str:
        return v
    raise HotRuntimeError(f"{fn}: expected a Str, got {type_name(v)}")


for _n in ("length", "is-empty", "slice"):
    alias(S_, _n, "::hot::coll", _n)


@lib(S_, "contains", core=True)
def contains(hay, needle):
    if hay.__class__ is str:
        return hot_str(needle) in hay
    if hay.__class__ is list:
        return any(hot_eq(x, needle) for x in hay)
    if hay.__class__ is dict:
        return needle in hay
    if hay is None:
        return False
    raise HotRuntimeError(f"contains: expected a Str or collection, got {type_name(hay)}")


@lib(S_, "starts-with", core=True)
def starts_with(s, prefix):
    return _s(s, "starts-with").startswith(_s(prefix, "starts-with"))


@lib(S_, "ends-with", core=True)
def ends_with(s, suffix):
    return _s(s, "ends-with").endswith(_s(suffix, "ends-with"))


@lib(S_, "uppercase", core=True)
def uppercase(s):
    return _s(s, "uppercase").upper()


@lib(S_, "lowercase", core=True)
def lowercase(s):
    return _s(s, "lowercase").lower()


@lib(S_, "capitalize")
def capitalize(s):
    s = _s(s, "capitalize")
    return s[:1].upper() + s[1:]


@lib(S_, "trim", core=True)
def trim(s):
    return _s(s, "trim").strip()


@lib(S_, "trim-start", core=True)
def trim_start(s):
    return _s(s, "trim-start").lstrip()


@lib(S_, "trim-end", core=True)
def trim_end(s):
    return _s(s, "trim-end").rstrip()


@lib(S_, "split", core=True)
def split(s, sep=None, limit=None):
    s = _s(s, "split")
    if sep is None:
        return s.split()
    if sep == "":
        return list(s)
    if limit is not None:
        return s.split(sep, max(limit - 1, 0))
    return s.split(sep)


@lib(S_, "lines")
def lines(s):
    return _s(s, "lines").splitlines()


@lib(S_, "join", core=True)
def join(coll, sep=""):
    if coll.__class__ is str and sep.__class__ is list:
        coll, sep = sep, coll
    if coll is None:
        return ""
    return hot_str(sep).join(hot_str(x) for x in coll)


@lib(S_, "replace", core=True)
def replace(s, old, new):
    return _s(s, "replace").replace(hot_str(old), hot_str(new))


@lib(S_, "replace-first", core=True)
def replace_first(s, old, new):
    return _s(s, "replace-first").replace(hot_str(old), hot_str(new), 1)


def _pad(fn, left):
    def pad(v, width, fill=" "):
        s = hot_str(v)
        fill = hot_str(fill)
        if width > MAX_STR:
            raise LimitExceeded("string size limit exceeded")
        if width <= len(s) or not fill:
            return s
        need = width - len(s)
        padding = (fill * (need // len(fill) + 1))[:need]
        return padding + s if left else s + padding

    lib(S_, fn, core=True)(pad)


_pad("pad-start", True)
_pad("pad-end", False)


@lib(S_, "is-blank", core=True)
def is_blank(s):
    return s is None or hot_str(s).strip() == ""


@lib(S_, "repeat")
def repeat(s, n):
    if len(s) * max(n, 0) > MAX_STR:
        raise LimitExceeded("string size limit exceeded")
    return _s(s, "repeat") * max(n, 0)


@lib(S_, "index-of")
def index_of(s, sub):
    i = _s(s, "index-of").find(hot_str(sub))
    return None if i < 0 else i


@lib(S_, "chars")
def chars(s):
    return list(_s(s, "chars"))


@lib(S_, "reverse")
def reverse(s):
    return _s(s, "reverse")[::-1]


@lib(S_, "substring")
def substring(s, start, end=None):
    return _s(s, "substring")[start:end]


@lib(S_, "format")
def format_(template, *args):
    out = _s(template, "format")
    for a in args:
        out = out.replace("{}", hot_str(a), 1)
    return out


@lib(S_, "matches")
def matches(s, pattern):
    return re.search(pattern, s) is not None


@lib(S_, "to-str")
def to_str(v):
    return hot_str(v)
