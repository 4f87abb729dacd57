"""Collection functions (`::hot::coll`). Vecs are Python lists, Maps are dicts; never mutated."""

from __future__ import annotations

import random as _random
from decimal import Decimal
from functools import cmp_to_key
from itertools import islice

from ..calls import HotFn, call_value, caller, consume
from ..concurrency import map_concurrently
from ..errors import HotRuntimeError, LimitExceeded
from ..state import check_string_size
from ..values import (
    ONERR_ENUM,
    Builtin,
    Err,
    HotIter,
    Ok,
    TypedVal,
    TypeInfo,
    Variant,
    hot_cmp,
    hot_eq,
    hot_str,
    repr_value,
    truthy,
    type_name,
)
from .iter import drain
from .math import add
from .registry import CORE, LIB, alias, lib

C = "::hot::coll"
MAX_COLL = 1_000_000  # largest Vec a library call may build


def _arity(f):
    if f.__class__ is HotFn:
        ov = f.overloads[0]
        return ov.nparams if not ov.variadic else 99
    return 1


def _call(f, args):
    r = call_value(f, args)
    if r.__class__ is Ok or r.__class__ is Err:
        r = consume(r)
    return r


def _call_item(f, coll, item, kv=None):
    """Callbacks over a Map get (key, value) when they take two parameters, else [k, v]."""
    if kv is not None:
        if _arity(f) >= 2:
            return _call(f, list(kv))
        return _call(f, [list(kv)])
    return _call(f, [item])


def _preserve(opt):
    return opt.__class__ is Variant and opt.enum is ONERR_ENUM and opt.name == "Preserve"


def _items(coll, fn):
    c = coll.__class__
    if c is list:
        return coll
    if c is HotIter:
        return drain(coll)
    if c is dict:
        return [[k, v] for k, v in coll.items()]
    if c is str:
        return list(coll)
    if coll is None:
        return []
    if c is TypedVal:
        return _items(coll.value, fn)
    raise HotRuntimeError(f"{fn}: expected a collection, got {type_name(coll)}")


def _coll(coll, fn):
    if coll.__class__ is TypedVal:
        coll = coll.value
    if coll.__class__ is HotIter:
        return drain(coll)
    if coll is None:
        return []
    if coll.__class__ not in (list, dict, str, bytes):
        raise HotRuntimeError(f"{fn}: expected a collection, got {type_name(coll)}")
    return coll


@lib(C, "map", core=True)
def map_(coll, f, on_err=None):
    coll = _coll(coll, "map")
    preserve = _preserve(on_err)
    call = call_value if preserve else _call
    if coll.__class__ is dict:
        if _arity(f) >= 2:
            return [call(f, [k, v]) for k, v in coll.items()]
        return [call(f, [[k, v]]) for k, v in coll.items()]
    if f.__class__ is HotFn:
        g = caller(f, 1)
        if preserve:
            return [g(x) for x in coll]
        out = []
        for x in coll:
            r = g(x)
            if r.__class__ is Ok or r.__class__ is Err:
                r = consume(r)
            out.append(r)
        return out
    return [call(f, [x]) for x in coll]


@lib(C, "pmap", core=True)
def pmap(coll, f, on_err=None):
    """`map` with the calls on concurrent threads (for I/O; see concurrency.py)."""
    coll = _coll(coll, "pmap")
    call = call_value if _preserve(on_err) else _call
    if coll.__class__ is dict:
        pairs = list(coll.items())
        if _arity(f) >= 2:
            return map_concurrently(pairs, lambda kv: call(f, [kv[0], kv[1]]))
        return map_concurrently(pairs, lambda kv: call(f, [[kv[0], kv[1]]]))
    return map_concurrently(list(coll), lambda x: call(f, [x]))


@lib(C, "map-indexed", core=True)
def map_indexed(coll, f, on_err=None):
    coll = _coll(coll, "map-indexed")
    call = call_value if _preserve(on_err) else _call
    if coll.__class__ is dict:
        return [call(f, [i, k, v]) for i, (k, v) in enumerate(coll.items())]
    return [call(f, [i, x]) for i, x in enumerate(coll)]


@lib(C, "for-each", core=True)
def for_each(coll, f):
    coll = _coll(coll, "for-each")
    if coll.__class__ is dict:
        for k, v in coll.items():
            _call_item(f, coll, None, (k, v))
    else:
        for x in coll:
            _call(f, [x])
    return


def _filter(coll, f, keep, fn):
    coll = _coll(coll, fn)
    if coll.__class__ is dict:
        two = _arity(f) >= 2
        return {
            k: v for k, v in coll.items() if truthy(_call(f, [k, v] if two else [[k, v]])) == keep
        }
    g = caller(f, 1)
    out = []
    for x in coll:
        r = g(x)
        if r.__class__ is Ok or r.__class__ is Err:
            r = consume(r)
        if (r is not None and r is not False) == keep:
            out.append(x)
    return out


@lib(C, "filter", core=True)
def filter_(coll, f):
    return _filter(coll, f, True, "filter")


@lib(C, "remove", core=True)
def remove(coll, f):
    out = _filter(coll, f, False, "remove")
    return "".join(out) if coll.__class__ is str else out


@lib(C, "filter-keys", core=True)
def filter_keys(m, f):
    return {k: v for k, v in _coll(m, "filter-keys").items() if truthy(_call(f, [k]))}


@lib(C, "filter-vals", core=True)
def filter_vals(m, f):
    return {k: v for k, v in _coll(m, "filter-vals").items() if truthy(_call(f, [v]))}


@lib(C, "map-keys", core=True)
def map_keys(m, f):
    return {_call(f, [k]): v for k, v in _coll(m, "map-keys").items()}


@lib(C, "map-vals", core=True)
def map_vals(m, f):
    return {k: _call(f, [v]) for k, v in _coll(m, "map-vals").items()}


REDUCED = TypeInfo("Reduced", "::hot::coll/Reduced", "type", [("value", None)])


@lib(C, "reduced", core=True)
def reduced(v):
    return TypedVal(REDUCED, {"value": v})


@lib(C, "reduce", core=True)
def reduce_(coll, f, init=None, *rest):
    coll = _coll(coll, "reduce")
    items = _items(coll, "reduce")
    if f.__class__ not in (HotFn, Builtin) and init.__class__ in (HotFn, Builtin):
        f, init = init, f  # tolerate reduce(coll, init, f)
    acc = init
    if coll.__class__ is dict and _arity(f) >= 3:
        for x in items:
            acc = _call(f, [acc, x[0], x[1]])
            if acc.__class__ is TypedVal and acc.type is REDUCED:
                return acc.value.get("value")
        return acc
    g = caller(f, 2)
    for x in items:
        acc = g(acc, x)
        c = acc.__class__
        if c is Ok or c is Err:
            acc = consume(acc)
        elif c is TypedVal and acc.type is REDUCED:
            return acc.value.get("value")
    return acc


@lib(C, "first", core=True)
def first(coll):
    coll = _coll(coll, "first")
    if coll.__class__ is dict:
        for k, v in coll.items():
            return [k, v]
        return None
    return coll[0] if coll else None


@lib(C, "last", core=True)
def last(coll):
    coll = _coll(coll, "last")
    if coll.__class__ is dict:
        return [list(coll)[-1], list(coll.values())[-1]] if coll else None
    return coll[-1] if coll else None


@lib(C, "rest", core=True)
def rest(coll):
    coll = _coll(coll, "rest")
    if coll.__class__ is dict:
        return dict(list(coll.items())[1:])
    return coll[1:]


@lib(C, "butlast", core=True)
def butlast(coll):
    coll = _coll(coll, "butlast")
    return coll[:-1]


@lib(C, "second")
def second(coll):
    coll = _coll(coll, "second")
    return coll[1] if len(coll) > 1 else None


@lib(C, "nth")
def nth(coll, i, default=None):
    coll = _coll(coll, "nth")
    return coll[i] if -len(coll) <= i < len(coll) else default


@lib(C, "length", core=True)
def length(coll):
    if coll is None:
        return 0
    if coll.__class__ is TypedVal:
        coll = coll.value
    if coll.__class__ in (list, dict, str, bytes):
        return len(coll)
    raise HotRuntimeError(f"length: expected a collection or Str, got {type_name(coll)}")


@lib(C, "is-empty", core=True)
def is_empty(coll):
    if coll is None:
        return True
    return length(coll) == 0


@lib(C, "count")
def count(coll, f=None):
    if f is None:
        return length(coll)
    return len(_filter(coll, f, True, "count"))


@lib(C, "get", core=True)
def get(coll, key, default=None):
    if coll.__class__ is TypedVal:
        coll = coll.value
    if coll.__class__ is dict:
        v = coll.get(key)
        if v is None and key.__class__ is int:
            v = coll.get(str(key))
    elif coll.__class__ in (list, str, bytes):
        if key.__class__ is not int:
            return default
        v = coll[key] if 0 <= key < len(coll) else None
    elif coll is None:
        v = None
    else:
        raise HotRuntimeError(f"get: cannot look up a key in a {type_name(coll)}")
    return default if v is None else v


@lib(C, "get-in", core=True)
def get_in(coll, path, default=None):
    cur = coll
    for k in path:
        if cur is None:
            break
        cur = get(cur, k)
    return default if cur is None else cur


@lib(C, "has-key")
def has_key(coll, key):
    if coll.__class__ is dict:
        return key in coll
    if coll.__class__ is list:
        return key.__class__ is int and 0 <= key < len(coll)
    return False


alias(C, "contains-key", C, "has-key")


def _assoc1(coll, key, val):
    if coll.__class__ is TypedVal:
        return TypedVal(coll.type, _assoc1(coll.value, key, val))
    if coll is None:
        coll = {} if key.__class__ is not int else []
    if coll.__class__ is dict:
        out = dict(coll)
        out[key] = val
        return out
    if coll.__class__ is list:
        if key.__class__ is not int:
            raise HotRuntimeError("assoc: Vec index must be an Int")
        out = list(coll)
        if key >= len(out):
            if key - len(out) > MAX_COLL:
                raise LimitExceeded("collection size limit exceeded")
            out.extend([None] * (key + 1 - len(out)))
        out[key] = val
        return out
    raise HotRuntimeError(f"assoc: cannot assoc into a {type_name(coll)}")


@lib(C, "assoc", core=True)
def assoc(coll, *kvs):
    if len(kvs) % 2:
        raise HotRuntimeError("assoc: expected key/value pairs")
    for i in range(0, len(kvs), 2):
        coll = _assoc1(coll, kvs[i], kvs[i + 1])
    return coll


@lib(C, "assoc-some", core=True)
def assoc_some(coll, *kvs):
    for i in range(0, len(kvs), 2):
        if kvs[i + 1] is not None:
            coll = _assoc1(coll, kvs[i], kvs[i + 1])
    return coll


@lib(C, "assoc-in", core=True)
def assoc_in(coll, path, val):
    if not path:
        return val
    k = path[0]
    inner = get(coll, k) if coll is not None else None
    return _assoc1(coll, k, assoc_in(inner, path[1:], val))


@lib(C, "update", core=True)
def update(coll, key, f, *args):
    return _assoc1(coll, key, _call(f, [get(coll, key)] + list(args)))


@lib(C, "update-in", core=True)
def update_in(coll, path, f, *args):
    return assoc_in(coll, path, _call(f, [get_in(coll, path)] + list(args)))


@lib(C, "delete", core=True)
def delete(coll, *keys):
    if coll.__class__ is dict:
        out = dict(coll)
        for k in keys:
            if k.__class__ is list:
                for kk in k:
                    out.pop(kk, None)
            else:
                out.pop(k, None)
        return out
    if coll.__class__ in (list, str):
        drop = {k + len(coll) if k < 0 else k for k in keys if k.__class__ is int}
        out = [x for i, x in enumerate(coll) if i not in drop]
        return "".join(out) if coll.__class__ is str else out
    if coll is None:
        return None
    raise HotRuntimeError(f"delete: expected a Map or Vec, got {type_name(coll)}")


alias(C, "dissoc", C, "delete")


@lib(C, "merge", core=True)
def merge(*maps):
    if len(maps) == 1 and maps[0].__class__ is list:
        maps = maps[0]
    out = {}
    for m in maps:
        if m is None:
            continue
        if m.__class__ is TypedVal:
            m = m.value
        if m.__class__ is not dict:
            raise HotRuntimeError(f"merge: expected Maps, got {type_name(m)}")
        for k, v in m.items():
            old = out.get(k)
            if old.__class__ is dict and v.__class__ is dict:
                out[k] = merge(old, v)
            else:
                out[k] = v
    return out


@lib(C, "deep-merge")
def deep_merge(*maps):
    out = {}
    for m in maps:
        for k, v in (m or {}).items():
            if isinstance(out.get(k), dict) and isinstance(v, dict):
                out[k] = deep_merge(out[k], v)
            else:
                out[k] = v
    return out


@lib(C, "keys", core=True)
def keys(coll):
    coll = _coll(coll, "keys")
    if coll.__class__ is dict:
        return list(coll)
    return list(range(len(coll)))


@lib(C, "vals", core=True)
def vals(coll):
    coll = _coll(coll, "vals")
    if coll.__class__ is dict:
        return list(coll.values())
    return list(coll)


@lib(C, "concat", core=True)
def concat(*parts):
    if not parts:
        return []
    if all(p.__class__ is list or p is None for p in parts) and any(
        p.__class__ is list for p in parts
    ):
        out = []
        for p in parts:
            if p is not None:
                out.extend(p)
        if len(out) > MAX_COLL:
            raise LimitExceeded(f"collection size limit exceeded ({MAX_COLL} items)")
        return out
    if all(p.__class__ is dict for p in parts):
        return merge(*parts)
    if all(p.__class__ is bytes for p in parts):
        return b"".join(parts)
    out = "".join(hot_str(p) if p is not None else "" for p in parts)
    check_string_size(out)
    return out


@lib(C, "flatten", core=True)
def flatten(coll, depth=None):
    out = []

    def walk(xs, d):
        for x in xs:
            if x.__class__ is list and (depth is None or d < depth):
                walk(x, d + 1)
            else:
                out.append(x)

    walk(_coll(coll, "flatten"), 0)
    return out


@lib(C, "mapcat", core=True)
def mapcat(coll, f, on_err=None):
    out = []
    for r in map_(coll, f, on_err):
        if r.__class__ is Ok:
            r = r.value
        if r.__class__ is list:
            out.extend(r)
        elif r is not None:
            out.append(r)
    return out


def _num_range(start, end, step):
    if step == 0:
        raise HotRuntimeError("range: step must not be zero")
    n = (end - start) / step
    if n > MAX_COLL:
        raise LimitExceeded(f"collection size limit exceeded (range of {int(n)} items)")
    if all(x.__class__ is int for x in (start, end, step)):
        return list(range(start, end, step))
    out = []
    x = Decimal(start)
    while (x < end) if step > 0 else (x > end):
        out.append(x)
        x += step
    return out


@lib(C, "range", core=True)
def range_(a, b=None, step=None):
    if b is None:
        a, b = 0, a
    return _num_range(a, b, 1 if step is None else step)


@lib(C, "sort", core=True)
def sort(coll, f=None):
    coll = _coll(coll, "sort")
    if f is None:
        return sorted(coll, key=cmp_to_key(hot_cmp))
    return sorted(coll, key=cmp_to_key(lambda a, b: _cmp_result(_call(f, [a, b]))))


def _cmp_result(r):
    if r.__class__ is bool:
        return -1 if r else 1
    return r


@lib(C, "sort-by", core=True)
def sort_by(coll, f, order=None):
    coll = _coll(coll, "sort-by")
    keyed = [(_call(f, [x]), x) for x in coll]
    keyed.sort(key=cmp_to_key(lambda a, b: hot_cmp(a[0], b[0])), reverse=(order == "desc"))
    return [x for _, x in keyed]


@lib(C, "reverse", core=True)
def reverse(coll):
    coll = _coll(coll, "reverse")
    if coll.__class__ is dict:
        return dict(reversed(list(coll.items())))
    return coll[::-1]


@lib(C, "distinct", core=True)
def distinct(coll):
    out = []
    seen = set()
    for x in _coll(coll, "distinct"):
        try:
            key = (x.__class__, x)
            if key in seen:
                continue
            seen.add(key)
        except TypeError:
            if any(hot_eq(x, y) for y in out):
                continue
        out.append(x)
    return out


@lib(C, "slice", core=True)
def slice_(coll, start, end=None):
    coll = _coll(coll, "slice")
    n = len(coll)
    if start < 0:
        start = max(0, n + start)
    if end is None:
        end = n
    elif end < 0:
        end = max(0, n + end)
    if start >= end:
        return "" if coll.__class__ is str else {} if coll.__class__ is dict else []
    if coll.__class__ is dict:
        return dict(list(coll.items())[start:end])
    return coll[start:end]


@lib(C, "take", core=True)
def take(coll, n):
    if coll.__class__ is HotIter:  # only as many as asked: the sequence may be endless
        return list(islice(coll.it, max(n, 0)))
    return _coll(coll, "take")[: max(n, 0)]


@lib(C, "drop")
def drop(coll, n):
    return _coll(coll, "drop")[max(n, 0) :]


@lib(C, "some", core=True)
def some(coll, f):
    for x in _items(_coll(coll, "some"), "some"):
        if truthy(_call(f, [x])):
            return True
    return False


@lib(C, "all", core=True)
def all_(coll, f):
    for x in _items(_coll(coll, "all"), "all"):
        if not truthy(_call(f, [x])):
            return False
    return True


@lib(C, "find-first", core=True)
def find_first(coll, f):
    for x in _items(_coll(coll, "find-first"), "find-first"):
        if truthy(_call(f, [x])):
            return x
    return None


@lib(C, "find-index")
def find_index(coll, f):
    for i, x in enumerate(_coll(coll, "find-index")):
        if truthy(_call(f, [x])):
            return i
    return None


@lib(C, "index-of")
def index_of(coll, v):
    for i, x in enumerate(_coll(coll, "index-of")):
        if hot_eq(x, v):
            return i
    return None


@lib(C, "group-by", core=True)
def group_by(coll, f):
    out = {}
    for x in _coll(coll, "group-by"):
        k = _call(f, [x])
        out.setdefault(_key(k), []).append(x)
    return out


@lib(C, "index-by", core=True)
def index_by(coll, f):
    return {_key(_call(f, [x])): x for x in _coll(coll, "index-by")}


def _key(k):
    try:
        hash(k)
        return k
    except TypeError:
        return repr_value(k)


@lib(C, "frequencies", core=True)
def frequencies(coll):
    out = {}
    for x in _coll(coll, "frequencies"):
        k = _key(x)
        out[k] = out.get(k, 0) + 1
    return out


@lib(C, "zipmap", core=True)
def zipmap(ks, vs):
    return {_key(k): v for k, v in zip(ks, vs, strict=False)}


@lib(C, "zip")
def zip_(*colls):
    return [list(t) for t in zip(*colls, strict=False)]


@lib(C, "partition", core=True)
def partition(coll, n, step=None):
    coll = _coll(coll, "partition")
    if n.__class__ is not int:
        yes = [x for x in coll if truthy(_call(n, [x]))]
        no = [x for x in coll if not truthy(_call(n, [x]))]
        return [yes, no]
    if n <= 0:
        raise HotRuntimeError("partition: size must be positive")
    step = step or n
    return [coll[i : i + n] for i in range(0, len(coll), step) if coll[i : i + n]]


@lib(C, "partition-by", core=True)
def partition_by(coll, f):
    out = []
    last = object()
    for x in _coll(coll, "partition-by"):
        k = _call(f, [x])
        if out and hot_eq(k, last):
            out[-1].append(x)
        else:
            out.append([x])
        last = k
    return out


@lib(C, "interleave", core=True)
def interleave(*colls):
    out = []
    for t in zip(*colls, strict=False):
        out.extend(t)
    return out


@lib(C, "interpose", core=True)
def interpose(sep, coll):
    if coll.__class__ is not list and sep.__class__ is list:
        sep, coll = coll, sep
    out = []
    for i, x in enumerate(coll):
        if i:
            out.append(sep)
        out.append(x)
    return out


@lib(C, "shuffle", core=True)
def shuffle(coll):
    out = list(_coll(coll, "shuffle"))
    _random.shuffle(out)
    return out


@lib(C, "sum")
def sum_(coll):
    return add(0, *coll) if coll else 0


@lib(C, "cons")
def cons(x, coll):
    return [x] + list(coll or [])


@lib(C, "conj")
def conj(coll, *xs):
    return list(coll or []) + list(xs)


@lib(C, "repeat")
def repeat(n, x):
    if n > MAX_COLL:
        raise LimitExceeded("collection size limit exceeded")
    return [x] * max(n, 0)


@lib(C, "select-keys")
def select_keys(m, ks):
    return {k: m[k] for k in ks if k in m}


@lib(C, "min-by")
def min_by(coll, f):
    return (
        min(coll, key=cmp_to_key(lambda a, b: hot_cmp(_call(f, [a]), _call(f, [b]))))
        if coll
        else None
    )


@lib(C, "max-by")
def max_by(coll, f):
    return (
        max(coll, key=cmp_to_key(lambda a, b: hot_cmp(_call(f, [a]), _call(f, [b]))))
        if coll
        else None
    )


def _walk(inner, outer, form):
    if form.__class__ is list:
        return _call(outer, [[_call(inner, [x]) for x in form]])
    if form.__class__ is dict:
        pairs = [_call(inner, [[k, v]]) for k, v in form.items()]
        return _call(outer, [{p[0]: p[1] for p in pairs}])
    return _call(outer, [form])


@lib(C, "walk", core=True)
def walk(inner, outer, form):
    return _walk(inner, outer, form)


@lib(C, "postwalk", core=True)
def postwalk(f, form):
    def inner(x):
        return postwalk(f, x)

    if form.__class__ is list:
        return _call(f, [[inner(x) for x in form]])
    if form.__class__ is dict:
        return _call(f, [{k: inner(v) for k, v in form.items()}])
    return _call(f, [form])


@lib(C, "prewalk", core=True)
def prewalk(f, form):
    form = _call(f, [form])
    if form.__class__ is list:
        return [prewalk(f, x) for x in form]
    if form.__class__ is dict:
        return {k: prewalk(f, v) for k, v in form.items()}
    return form


@lib(C, "postwalk-replace", core=True)
def postwalk_replace(smap, form):
    def rep(x):
        try:
            return smap.get(x, x) if x.__class__ in (str, int) else x
        except TypeError:
            return x

    if form.__class__ is list:
        return rep([postwalk_replace(smap, x) for x in form])
    if form.__class__ is dict:
        return rep({k: postwalk_replace(smap, v) for k, v in form.items()})
    return rep(form)


LIB[C]["Reduced"] = REDUCED
CORE["Reduced"] = REDUCED
