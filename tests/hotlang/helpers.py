"""Small helpers shared by the hotlang tests."""

from hotlang import Limits, execute, prepare


def program(src, path="hot/src/t.hot"):
    prepared = prepare({path: src})
    assert prepared.errors == [], prepared.errors
    return prepared


def run(body, fn="main", args=(), hooks=None, limits=None, header="::t ns\n"):
    """Run `fn` from a one-file program; returns the Outcome."""
    prepared = program(header + body)
    return execute(prepared, f"::t/{fn}", list(args), hooks=hooks, limits=limits or Limits())


def value(body, fn="main", args=()):
    """Run and return the JSON result, asserting success."""
    out = run(body, fn, args)
    assert out.status == "succeeded", out.error
    return out.result


def expr(text):
    """Evaluate a single Hot expression inside a function body."""
    return value(f"main fn () {{\n  {text}\n}}\n")
