"""Compile work is linear in the size of the code, and preparation is bounded."""

from hotlang import PrepareLimits, execute, prepare

from .helpers import value


def test_a_deep_pipe_compiles_and_runs():
    stages = "".join(f" |> add({i})" for i in range(150))
    assert value(f"main fn () {{ 0{stages} }}\n") == sum(range(150))


def test_deeply_nested_calls_compile_and_run():
    depth = 100
    assert value(f"main fn () {{ {'add(' * depth}0{', 1)' * depth} }}\n") == depth


def test_nested_ifs_and_user_calls_compile_and_run():
    depth = 200
    nested = "if(true, " * depth + "inc(0)" + ", 0)" * depth
    src = f"inc fn (x) {{ add(x, 1) }}\nmain fn () {{ {nested} }}\n"
    assert value(src) == 1


def test_nested_placeholder_lambdas_in_a_long_pipe_compile_and_run():
    stages = "".join(" |> ::hot::coll/map(add(mul(%, 1), 1))" for _ in range(40))
    assert value(f"main fn () {{ [0, 1]{stages} }}\n") == [40, 41]


def test_preparation_time_limit_is_a_clear_error():
    files = {f"hot/src/m{i}.hot": f"::m{i} ns\nf fn () {{ {i} }}\n" for i in range(50)}
    prepared = prepare(files, PrepareLimits(max_seconds=1e-9))
    (error,) = prepared.errors
    assert error["message"].startswith("preparation time limit exceeded (1e-09 seconds)")
    assert error["file"].startswith("hot/src/m")


def test_preparation_limit_can_be_disabled():
    prepared = prepare({"a.hot": "::a ns\nf fn () { 1 }\n"}, PrepareLimits(max_seconds=None))
    assert prepared.errors == []
    assert execute(prepared, "::a/f").result == 1
