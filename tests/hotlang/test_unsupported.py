"""Unsupported names fail where they are used, and a failed namespace says why."""

from hotlang import execute, prepare

from .helpers import program

LIB = """::app::lib ns
Req ::hot::ws/WsMessage
get ::hot::ws/connect
double fn (x) { mul(x, 2) }
fetch fn (url) { get(url) }
make fn () { Req({url: "x"}) }
method fn () { Req.Method }
"""

MAIN = """::app::main ns
lib ::app::lib
quad fn (x) { ::app::lib/double(::app::lib/double(x)) }
fetch fn () { ::app::lib/fetch("http://127.0.0.1/") }
"""


def prepared():
    return program(LIB, "hot/src/app/lib.hot")


def test_pure_functions_of_a_namespace_with_unsupported_imports_run():
    p = prepare({"hot/src/app/lib.hot": LIB, "hot/src/app/main.hot": MAIN})
    assert p.errors == []
    assert execute(p, "::app::lib/double", [21]).result == 42
    assert execute(p, "::app::main/quad", [1]).result == 4


def test_the_use_of_an_unsupported_name_fails_clearly_at_the_use():
    p = prepared()
    for fn in ("fetch", "make", "method"):
        out = execute(p, f"::app::lib/{fn}", ["u"] if fn == "fetch" else [])
        assert out.status == "failed"
        assert "is not supported by this runtime" in out.error
        assert "hot/src/app/lib.hot:" in out.error  # the location of the use
    out = execute(p, "::app::lib/fetch", ["u"])
    assert out.error.endswith("::hot::ws/connect is not supported by this runtime")


def test_unsupported_names_are_reported_for_the_functions_that_use_them():
    p = prepare({"hot/src/app/lib.hot": LIB, "hot/src/app/main.hot": MAIN})
    assert p.unsupported["::app::lib/fetch"] == ["::hot::ws/connect"]
    assert p.unsupported["::app::main/fetch"] == ["::hot::ws/connect"]
    assert "::app::lib/double" not in p.unsupported
    assert "::app::main/quad" not in p.unsupported


def test_namespace_level_code_that_fails_reports_the_original_error_on_every_use():
    src = """::app::cfg ns
limit 10
boom ::hot::ws/connect("http://127.0.0.1/")
size fn () { limit }
other fn () { 1 }
"""
    p = prepare({"hot/src/app/cfg.hot": src})
    # namespace-level code counts for every function of the namespace
    assert p.unsupported["::app::cfg/other"] == ["::hot::ws/connect"]
    first = execute(p, "::app::cfg/size")
    assert first.status == "failed"
    assert "::hot::ws/connect is not supported by this runtime" in first.error
    again = execute(p, "::app::cfg/other")
    assert "::hot::ws/connect is not supported by this runtime" in again.error
    assert "unknown name" not in again.error
