"""Lazy iterators: stateful `next`, and endless sequences taken without materialising."""

from .helpers import run, value


def test_next_advances_and_collect_drains_the_rest():
    src = """
main fn () {
  it ::hot::iter/Iter([1, 2, 3])
  a ::hot::iter/next(it)
  rest ::hot::iter/collect(it)
  [a, rest, ::hot::iter/next(it), ::hot::iter/is-iter(it), ::hot::iter/is-iter([1])]
}
"""
    assert value(src) == [
        {"value": 1, "done": False},
        [2, 3],
        {"value": None, "done": True},
        True,
        False,
    ]


def test_a_huge_range_is_taken_lazily_and_library_functions_accept_iterators():
    src = """
main fn () {
  big ::hot::iter/range(0, 1000000000000)
  [::hot::iter/take(big, 3), take(big, 2),
   ::hot::coll/map(::hot::iter/range(1, 4), mul(%, 10)),
   ::hot::coll/reduce(::hot::iter/Iter({a: 1, b: 2}), (acc, kv) { add(acc, kv[1]) }, 0)]
}
"""
    assert value(src) == [[0, 1, 2], [3, 4], [10, 20, 30], 3]


def test_draining_an_endless_iterator_stops_at_the_collection_limit():
    out = run("main fn () { ::hot::iter/collect(::hot::iter/range(0, 1000000000000)) }\n")
    assert out.status == "failed" and "collection size limit exceeded" in out.error
