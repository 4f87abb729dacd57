"""`::hot::store` on the platform's database (SQLite and PostgreSQL): Hot code through the
runtime with a database-backed host, keyword and semantic search, limits and the quota, and
concurrent writers on one map."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import close_old_connections, connection

from environments.usage import STORAGE_BYTES, usage
from hostio.embedding import embed
from hotapi.errors import TooLarge
from hotlang import Hooks, execute, prepare
from runs.host import OnThread
from stores.models import StoreMap
from stores.services import DatabaseStore


class StoreHooks(Hooks):
    """The store as the platform's hooks hand it over: every call on one database thread."""

    def __init__(self, environment):
        self.executor = ThreadPoolExecutor(max_workers=1)
        self.store = OnThread(DatabaseStore(environment.pk), self.db)

    def db(self, fn, *args):
        return self.executor.submit(fn, *args).result()

    def close(self):
        self.db(lambda: connection.close())
        self.executor.shutdown()

    def store_backend(self):
        return self.store

    def embed(self, texts):
        return [embed(t) for t in texts]


def run(environment, body):
    prepared = prepare({"hot/src/t.hot": "::t ns\n::store ::hot::store\n" + body})
    assert prepared.errors == []
    hooks = StoreHooks(environment)
    try:
        return execute(prepared, "::t/main", [], hooks=hooks)
    finally:
        hooks.close()


def value(environment, body):
    out = run(environment, body)
    assert out.status == "succeeded", out.error
    return out.result


@pytest.mark.django_db(transaction=True)
def test_a_map_keeps_values_in_insertion_order_across_runs(environment):
    value(
        environment,
        'main fn () { s ::store/Map({name: "kv"})\n ::store/put(s, "b", {n: 1})\n'
        ' ::store/put(s, "a", [1, 2])\n ::store/put(s, 7, "seven")\n'
        ' ::store/put(s, "b", {n: 2}) }\n',
    )
    result = value(
        environment,
        'main fn () { s ::store/Map({name: "kv"})\n'
        ' [::store/keys(s), ::store/get(s, "b"), ::store/get(s, 7), ::store/length(s),'
        ' ::store/put-if-missing(s, "a", 0), ::store/put-if-missing(s, "z", null),'
        ' ::store/get(s, "z", "default"), ::store/delete(s, "a"), ::store/delete(s, "a"),'
        " ::store/slice(s, 1, 2), ::store/last(s).key,"
        " ::store/filter(s, (k, v) { is-map(v) }),"
        " ::store/reduce(s, (acc, k, v) { add(acc, 1) }, 0)]"
        " }\n",
    )
    assert result == [
        ["b", "a", 7],
        {"n": 2},
        "seven",
        3,
        False,
        True,
        None,
        True,
        False,
        [{"key": 7, "value": "seven"}],
        "z",
        [{"key": "b", "value": {"n": 2}}],
        3,
    ]


@pytest.mark.django_db(transaction=True)
def test_stores_are_scoped_to_the_environment(environment, other_environment):
    value(environment, 'main fn () { ::store/put(::store/Map({name: "x"}), "k", 1) }\n')
    assert (
        value(other_environment, 'main fn () { ::store/get(::store/Map({name: "x"}), "k") }\n')
        is None
    )


@pytest.mark.django_db(transaction=True)
def test_keyword_and_semantic_search(environment):
    docs = """
docs fn () {
  {"refunds": {title: "Refunds", content: "Refunds are available within thirty days of purchase"},
   "shipping": {title: "Shipping", content: "We ship worldwide with tracked parcels"},
   "returns": {title: "Returns", content: "Return an item and get your refund quickly"}}
}
"""
    result = value(
        environment,
        docs
        + """
main fn () {
  plain ::store/Map({name: "plain"})
  ::store/put-many(plain, docs())
  kb ::store/Map({name: "kb", embedding: EmbeddingOptions.Default})
  ::store/put-many(kb, docs())
  custom ::store/Map({name: "custom", embedding: Embedding({dimensions: 2, text-search: true,
    embed-fn: (text) { if(::hot::str/contains(text, "ship"), [1.0, 0.0], [0.0, 1.0]) }})})
  ::store/put-many(custom, docs())
  [::hot::coll/map(::store/search(plain, "worldwide parcels"), (h) { h.key }),
   ::store/search(kb, "refunds available within days", {limit: 1}).0.key,
   ::hot::coll/map(::store/search(custom, "ship it", {limit: 1}), (h) { [h.key, h.score] }),
   ::hot::coll/first(::store/search(custom, "refund", {mode: "keyword"})).key]
}
""",
    )
    assert result[0] == ["shipping"]
    assert result[1] == "refunds"
    assert result[2] == [["shipping", 1.0]]
    assert result[3] in ("refunds", "returns")


@pytest.mark.django_db(transaction=True)
def test_value_and_environment_limits_and_the_quota(environment, settings):
    settings.HOT_STORE_MAX_VALUE_BYTES = 200
    out = run(
        environment,
        'main fn () { ::store/put(::store/Map({name: "big"}), "k",'
        ' ::hot::str/repeat("x", 500)) }\n',
    )
    assert out.status == "failed" and "store value too large" in out.error
    value(environment, 'main fn () { ::store/put(::store/Map({name: "q"}), "k", "0123456789") }\n')
    assert usage(STORAGE_BYTES, environment=environment) >= 15
    settings.HOT_STORE_MAX_BYTES_PER_ENV = 20
    with pytest.raises(TooLarge, match="stores are full"):
        DatabaseStore(environment.pk).put("q", '"k2"', "0123456789")
    value(environment, 'main fn () { ::store/destroy(::store/Map({name: "q"})) }\n')
    assert not StoreMap.objects.filter(name="q").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_lose_nothing(environment):
    """Several threads (each with its own database connection) write one map at once: every
    key arrives, the byte count is exact, and put-if-missing has exactly one winner."""
    store = DatabaseStore(environment.pk)
    store.put("shared", '"seed"', 0)  # the map exists before the race on its entries
    winners = []
    errors = []

    def writer(n):
        try:
            for i in range(20):
                store.put("shared", f'"w{n}-{i}"', {"n": n, "i": i})
            if store.put_if_missing("shared", '"only-once"', n):
                winners.append(n)
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(winners) == 1
    assert store.length("shared") == 1 + 4 * 20 + 1
    keys = [k for k, _ in store.entries("shared")]
    assert len(set(keys)) == len(keys)
    expected = sum(
        len(k.encode()) + len(json.dumps(v, separators=(",", ":")))
        for k, v in store.entries("shared")
    )
    assert StoreMap.objects.get(name="shared").bytes == expected
