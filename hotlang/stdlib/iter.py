"""Lazy iterators: `::hot::iter`.

An `Iter` is stateful, as in Hot: `next` advances it and `collect` drains what is left. `range`
and `take` never build more than they are asked for, so endless sequences work with them; any
function that needs a whole collection drains the iterator, up to the collection size limit.
"""

from __future__ import annotations

import itertools

from ..calls import call_value
from ..errors import HotRuntimeError, LimitExceeded
from ..values import HotIter, TypedVal, type_name
from .registry import lib

IT = "::hot::iter"
MAX_ITEMS = 1_000_000  # the same collection size limit as range/concat/repeat


def drain(it):
    items = list(itertools.islice(it.it, MAX_ITEMS + 1))
    if len(items) > MAX_ITEMS:
        raise LimitExceeded(f"collection size limit exceeded (an Iter of over {MAX_ITEMS} items)")
    return items


def _source(coll):
    c = coll.__class__
    if c is HotIter:
        return coll.it
    if c is TypedVal:
        return _source(coll.value)
    if c is list or c is str:
        return iter(coll)
    if c is dict:
        return ([k, v] for k, v in coll.items())
    if coll is None:
        return iter(())
    raise HotRuntimeError(f"Iter: cannot iterate over a {type_name(coll)}")


@lib(IT, "Iter", core=True)
def Iter(coll):
    return coll if coll.__class__ is HotIter else HotIter(_source(coll))


@lib(IT, "is-iter")
def is_iter(v):
    return v.__class__ is HotIter


@lib(IT, "next", core=True)
def next_(it):
    """`{value, done}`: the next item, or `{value: null, done: true}` at the end."""
    for value in _source(it):
        return {"value": value, "done": False}
    return {"value": None, "done": True}


@lib(IT, "take")
def take(it, n):
    return list(itertools.islice(_source(it), max(n, 0)))


@lib(IT, "collect", core=True)
def collect(it):
    return drain(Iter(it))


@lib(IT, "for-each")
def for_each(it, f):
    for value in _source(it):
        call_value(f, [value])


@lib(IT, "range")
def range_(a, b=None, step=None):
    """Lazy `range(end)`, `range(start, end)` or `range(start, end, step)`."""
    if b is None:
        a, b = 0, a
    step = 1 if step is None else step
    if step == 0:
        raise HotRuntimeError("range: step must not be 0")
    return HotIter(iter(range(a, b, step)))
