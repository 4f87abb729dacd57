"""Benchmarks hotlang against the same algorithms in plain Python (same process, same run).

Run from the repository root:  python bench/hotlang_bench.py
"""

from __future__ import annotations

import os
import sys
import time
from functools import reduce

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hotlang import Limits, execute, prepare  # noqa: E402

SOURCE = """
::bench::main ns

fib fn (n: Int): Int {
  if(lt(n, 2), n, add(fib(sub(n, 1)), fib(sub(n, 2))))
}

run-fib fn (n) { fib(n) }

map-filter-reduce fn (n) {
  xs range(0, n)
  doubled map(xs, (x) { mul(x, 2) })
  kept filter(doubled, (x) { eq(mod(x, 3), 0) })
  reduce(kept, (acc, x) { add(acc, x) }, 0)
}

build-string fn (n) { build-loop(0, n, "") }

build-loop fn cond (i, n, acc) {
  gte(i, n) => { length(acc) }
  => { build-loop(add(i, 1), n, `${acc}${i},`) }
}

trivial fn (event) { {ok: true, type: event.type} }
"""


def py_fib(n):
    return n if n < 2 else py_fib(n - 1) + py_fib(n - 2)


def py_map_filter_reduce(n):
    doubled = list(map(lambda x: x * 2, range(n)))
    kept = list(filter(lambda x: x % 3 == 0, doubled))
    return reduce(lambda acc, x: acc + x, kept, 0)


def py_build_string(n):
    acc = ""
    for i in range(n):
        acc = f"{acc}{i},"
    return len(acc)


def best_of(fn, repeat=3):
    best = None
    value = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return best, value


def main():
    prepared = prepare({"hot/src/bench/main.hot": SOURCE})
    assert not prepared.errors, prepared.errors
    limits = Limits(max_steps=None, max_seconds=None, max_depth=10_000, max_value_bytes=None)

    def hot(fn, *args):
        out = execute(prepared, f"::bench::main/{fn}", list(args), limits=limits)
        assert out.status == "succeeded", out.error
        return out.result

    cases = [
        ("recursive fib(22)", lambda: hot("run-fib", 22), lambda: py_fib(22)),
        (
            "map/filter/reduce 10,000",
            lambda: hot("map-filter-reduce", 10_000),
            lambda: py_map_filter_reduce(10_000),
        ),
        (
            "string building 10,000 (tail recursion)",
            lambda: hot("build-string", 10_000),
            lambda: py_build_string(10_000),
        ),
    ]
    print(f"{'case':42} {'hotlang':>10} {'python':>10} {'ratio':>8}")
    for name, hot_fn, py_fn in cases:
        th, vh = best_of(hot_fn)
        tp, vp = best_of(py_fn)
        assert vh == vp, (name, vh, vp)
        print(f"{name:42} {th * 1000:9.2f}ms {tp * 1000:9.3f}ms {th / tp:7.1f}x")

    n = 500
    t0 = time.perf_counter()
    for _ in range(n):
        hot("trivial", {"type": "ping", "data": {}})
    per = (time.perf_counter() - t0) / n
    print(f"{'trivial prepared handler (execute)':42} {per * 1000:9.3f}ms")

    t0 = time.perf_counter()
    for _ in range(20):
        prepare({"hot/src/bench/main.hot": SOURCE})
    print(f"{'prepare() of the bench source':42} {(time.perf_counter() - t0) / 20 * 1000:9.3f}ms")

    # compile time must be linear in the size of the code (target: at most 50 ms each)
    for name, source in (
        ("prepare() of a 40-step pipe", deep_pipe_source(40)),
        ("prepare() of 40 nested calls", nested_calls_source(40)),
    ):
        t, deep = best_of(lambda source=source: prepare({"hot/src/bench/deep.hot": source}))
        assert not deep.errors, deep.errors
        print(f"{name:42} {t * 1000:9.3f}ms")


def deep_pipe_source(steps):
    """`x |> add(0) |> add(1) |> ...`: pipes desugar to nested calls."""
    stages = "".join(f" |> add({i})" for i in range(steps))
    return f"::bench::deep ns\nrun fn (x) {{ x{stages} }}\n"


def nested_calls_source(depth):
    """`add(add(add(x, 1), 1), 1)` nested `depth` deep."""
    return f"::bench::deep ns\nrun fn (x) {{ {'add(' * depth}x{', 1)' * depth} }}\n"


if __name__ == "__main__":
    main()
