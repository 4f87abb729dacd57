"""Persistent maps: `::hot::store` (the types are in hot/store.hot).

The host keeps the entries (`Hooks.store_backend()`: the platform's database, or memory on
the command line): keys and values travel as JSON, keys by their canonical JSON text, in
insertion order. This module turns Hot values into that form and back, computes what a store
with embeddings indexes — the text of the value's `field` (default `content`; a Str value is
its own text) and its vector, from the store's `embed-fn` or the host's default embedding —
and runs the predicates and reducers, which are Hot functions, over the entries page by page.
A failure of the host's store is a `Result.Err`, as in Hot.
"""

from __future__ import annotations

import json
from decimal import Decimal

from ..calls import call_value, consume
from ..errors import HotError, HotRuntimeError
from ..hostcall import host_service
from ..jsonmap import from_json, to_json
from ..state import check_interrupts, current
from ..values import Err, TypedVal, Variant, hot_str, truthy, type_name
from .registry import lib

ST = "::hot::store"
PAGE = 500  # entries read at a time by the functions that walk a whole store


class _Store:
    """A store Map value, read once per call: its name and embedding settings."""

    def __init__(self, value):
        fields = value.value if value.__class__ is TypedVal else value
        if fields.__class__ is not dict or fields.get("name").__class__ is not str:
            raise HotRuntimeError(f"{ST}: expected a store Map with a name, got {type_name(value)}")
        self.name = fields["name"]
        self.backend = host_service("store_backend", ST)
        option = fields.get("embedding")
        self.embedding = None  # None: off; {}: the host's default; else the Embedding fields
        if option.__class__ is Variant:
            if option.name == "Default":
                self.embedding = {}
            elif option.name == "Embedding":
                option = option.value
        if option.__class__ is TypedVal:
            self.embedding = dict(option.value)
        conf = self.embedding or {}
        self.field = conf.get("field") or "content"
        self.text_search = conf.get("text-search") is True or self.embedding is None

    def text(self, value):
        """What keyword search and the embedding see of a value."""
        if value.__class__ is TypedVal:
            value = value.value
        if value.__class__ is str:
            return value
        if value.__class__ is dict:
            if self.field in value:
                return hot_str(value[self.field])
            return " ".join(_strings(value))
        return None if value is None else hot_str(value)

    def vector(self, text, *, required=False):
        if self.embedding is None or not text:
            return None
        fn = self.embedding.get("embed-fn")
        if fn is None:
            hooks = current().hooks
            embed = getattr(hooks, "embed", None)
            if not callable(embed):
                raise HotRuntimeError(f"{ST}: this host has no default embedding")
            return list(embed([text])[0])
        try:
            raw = consume(call_value(fn, [text]))
            vector = [float(x) for x in raw]
        except (HotError, TypeError, ValueError) as e:
            if self.embedding.get("on-error") == "skip" and not required:
                return None
            raise HotRuntimeError(f"{ST}: embed-fn failed: {e}") from None
        dims = self.embedding.get("dimensions")
        if dims is not None and len(vector) != dims:
            raise HotRuntimeError(f"{ST}: embed-fn returned {len(vector)} numbers, not {dims}")
        return vector


def _strings(value):
    if value.__class__ is str:
        return [value]
    if value.__class__ is dict:
        return [s for v in value.values() for s in _strings(v)]
    if value.__class__ is list:
        return [s for v in value for s in _strings(v)]
    return []


def _key(key):
    return json.dumps(to_json(key), separators=(",", ":"), ensure_ascii=False)


def _unkey(text):
    return from_json(json.loads(text))


def _entry(key_text, value):
    return {"key": _unkey(key_text), "value": from_json(value)}


def _host(fn):
    """Store operations: a host failure is an Err value; the run's own limits pass through."""

    def op(*args):
        try:
            return fn(*args)
        except HotError:
            raise
        except Exception as e:
            return _err(e)

    op.__name__ = fn.__name__
    op.__doc__ = fn.__doc__
    return op


def _err(e):
    return Err(f"{ST}: {e}")


def _write(st, key, value, only_if_missing=False):
    text = st.text(value)
    if only_if_missing and st.backend.has(st.name, _key(key)):
        return False  # known to exist: no embedding call
    vector = st.vector(text)
    index_text = text if st.text_search or st.embedding is not None else None
    put = st.backend.put_if_missing if only_if_missing else st.backend.put
    return put(st.name, _key(key), to_json(value), index_text, vector)


@lib(ST, "put")
@_host
def put(store, key, value):
    _write(_Store(store), key, value)
    return value


@lib(ST, "put-if-missing")
@_host
def put_if_missing(store, key, value):
    return bool(_write(_Store(store), key, value, only_if_missing=True))


@lib(ST, "get")
@_host
def get(store, key, default=None):
    st = _Store(store)
    found, value = st.backend.get(st.name, _key(key))
    return from_json(value) if found else default


@lib(ST, "delete")
@_host
def delete(store, key):
    st = _Store(store)
    return bool(st.backend.delete(st.name, _key(key)))


def _walk(st):
    """Every entry as (key text, JSON value), a page at a time."""
    offset = 0
    while True:
        page = st.backend.entries(st.name, offset, PAGE)
        yield from page
        if len(page) < PAGE:
            return
        offset += PAGE
        check_interrupts()


@lib(ST, "keys")
@_host
def keys(store):
    return [_unkey(k) for k, _ in _walk(_Store(store))]


@lib(ST, "vals")
@_host
def vals(store):
    return [from_json(v) for _, v in _walk(_Store(store))]


@lib(ST, "length")
@_host
def length(store):
    st = _Store(store)
    return st.backend.length(st.name)


@lib(ST, "is-empty")
@_host
def is_empty(store):
    return length(store) == 0


@lib(ST, "first")
@_host
def first(store):
    st = _Store(store)
    page = st.backend.entries(st.name, 0, 1)
    return _entry(*page[0]) if page else None


@lib(ST, "last")
@_host
def last(store):
    st = _Store(store)
    n = st.backend.length(st.name)
    page = st.backend.entries(st.name, n - 1, 1) if n else []
    return _entry(*page[0]) if page else None


def _many(store, entries):
    if entries.__class__ is TypedVal:
        entries = entries.value
    if entries.__class__ is not dict:
        raise HotRuntimeError(f"{ST}: expected a Map of entries, got {type_name(entries)}")
    st = _Store(store)
    for key, value in entries.items():
        _write(st, key, value)
    return len(entries)


@lib(ST, "merge")
@_host
def merge(store, entries):
    return _many(store, entries)


@lib(ST, "put-many")
@_host
def put_many(store, entries):
    return _many(store, entries)


@lib(ST, "list")
@_host
def list_(store, opts=None):
    st = _Store(store)
    opts = opts or {}
    offset = max(0, int(opts.get("offset") or 0))
    limit = opts.get("limit")
    return [_entry(k, v) for k, v in st.backend.entries(st.name, offset, limit)]


@lib(ST, "slice")
@_host
def slice_(store, start, end=None):
    st = _Store(store)
    n = st.backend.length(st.name)
    start = max(0, start + n if start < 0 else start)
    end = n if end is None else max(0, end + n if end < 0 else min(end, n))
    if end <= start:
        return []
    return [_entry(k, v) for k, v in st.backend.entries(st.name, start, end - start)]


def _matches(predicate, key_text, value):
    return truthy(consume(call_value(predicate, [_unkey(key_text), from_json(value)])))


@lib(ST, "filter")
@_host
def filter_(store, predicate):
    return [_entry(k, v) for k, v in _walk(_Store(store)) if _matches(predicate, k, v)]


@lib(ST, "find-first")
@_host
def find_first(store, predicate):
    for k, v in _walk(_Store(store)):
        if _matches(predicate, k, v):
            return _entry(k, v)
    return None


@lib(ST, "some")
@_host
def some(store, predicate):
    return any(_matches(predicate, k, v) for k, v in _walk(_Store(store)))


@lib(ST, "all")
@_host
def all_(store, predicate):
    return all(_matches(predicate, k, v) for k, v in _walk(_Store(store)))


@lib(ST, "reduce")
@_host
def reduce(store, reducer, initial):
    acc = initial
    for k, v in _walk(_Store(store)):
        acc = consume(call_value(reducer, [acc, _unkey(k), from_json(v)]))
    return acc


@lib(ST, "clear")
@_host
def clear(store):
    st = _Store(store)
    return bool(st.backend.clear(st.name))


@lib(ST, "destroy")
@_host
def destroy(store):
    st = _Store(store)
    return bool(st.backend.destroy(st.name))


@lib(ST, "search")
@_host
def search(store, query, opts=None):
    """Semantic search on a store with embeddings (`mode: "keyword"` or `"hybrid"` for the
    keyword index too); keyword search on a store without. Each hit is {key, value, score}."""
    st = _Store(store)
    if query.__class__ is not str:
        raise HotRuntimeError(f"{ST}/search expects a Str query")
    opts = opts or {}
    limit = int(opts.get("limit") or 10)
    min_score = opts.get("min-score")
    mode = opts.get("mode") or ("semantic" if st.embedding is not None else "keyword")
    hits = {}
    if mode in ("semantic", "hybrid"):
        if st.embedding is None:
            raise HotRuntimeError(f"{ST}/search: store '{st.name}' has no embeddings")
        vector = st.vector(query, required=True)
        for k, v, score in st.backend.vector_search(st.name, vector, limit):
            hits[k] = (v, score)
    if mode in ("keyword", "hybrid"):
        for k, v, score in st.backend.keyword_search(st.name, query, limit):
            if k not in hits or hits[k][1] < score:
                hits[k] = (v, score)
    ranked = sorted(hits.items(), key=lambda kv: -kv[1][1])
    if min_score is not None:
        ranked = [h for h in ranked if h[1][1] >= float(min_score)]
    return [
        {"key": _unkey(k), "value": from_json(v), "score": Decimal(repr(round(score, 6)))}
        for k, (v, score) in ranked[:limit]
    ]
