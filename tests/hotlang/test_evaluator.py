from hotlang import Limits

from .helpers import expr, run, value


def test_vars_deep_paths_and_appends():
    src = """
main fn () {
  user.name "Bob"
  user.settings.theme "dark"
  cfg.servers[0] "a"
  cfg.servers[2] "c"
  items []
  items[] "x"
  items[] "y"
  key "name"
  user[key] "Ann"
  {user: user, cfg: cfg, items: items}
}
"""
    assert value(src) == {
        "user": {"name": "Ann", "settings": {"theme": "dark"}},
        "cfg": {"servers": ["a", None, "c"]},
        "items": ["x", "y"],
    }


def test_namespace_vars_rebinding_in_order():
    src = """
list[] "first"
list[] "second"
total add(1, 2)
main fn () { [list, total] }
"""
    assert value(src) == [["first", "second"], 3]


def test_overloads_by_arity_and_type():
    src = """
show fn (x: Int): Str { `int ${x}` }, (x: Str): Str { `str ${x}` }, (x: Vec) { length(x) }
greet fn (n) { greet(n, "Hello") }, (n, g) { `${g}, ${n}!` }
main fn () { [show(1), show("a"), show([1, 2]), greet("Ann"), greet("Bo", "Hi")] }
"""
    assert value(src) == ["int 1", "str a", 2, "Hello, Ann!", "Hi, Bo!"]


def test_variadic_and_lazy_parameters():
    src = """
count-all fn (first, ...rest) { add(1, length(rest)) }
pick fn (c, lazy a, lazy b) { if(c, do a, do b) }
main fn () {
  [count-all(1), count-all(1, 2, 3), pick(true, 1, fail("never")), pick(false, fail("no"), 2)]
}
"""
    assert value(src) == [1, 3, 1, 2]


def test_tail_calls_do_not_grow_the_stack():
    src = """
count fn cond (n, acc) {
  eq(n, 0) => acc
  => count(sub(n, 1), add(acc, 1))
}
loop-if fn (n) { if(eq(n, 0), "done", loop-if(sub(n, 1))) }
main fn () { [count(200000, 0), loop-if(100000)] }
"""
    assert value(src) == [200000, "done"]


def test_int_wraps_at_64_bits_and_dec_is_exact():
    assert expr("add(9223372036854775807, 1)") == -9223372036854775808
    assert expr("mul(4611686018427387904, 4)") == 0
    assert expr("Str(add(0.1, 0.2))") == "0.3"
    assert expr("eq(add(0.1, 0.2), 0.3)") is True
    assert expr("div(3, 2)") == 1.5
    assert expr("div(4, 2)") == 2


def test_truthiness():
    assert expr('[if(0, 1, 2), if("", 1, 2), if([], 1, 2), if(null, 1, 2), if(false, 1, 2)]') == [
        1,
        1,
        1,
        2,
        2,
    ]
    assert expr('if(err("x"), 1, 2)') == 2


def test_cond_and_cond_all():
    src = """
grade fn cond (n) { gte(n, 90) => "A" gte(n, 80) => "B" => "C" }
checks fn (x) { cond-all { gt(x, 0) => pos { "pos" } eq(mod(x, 2), 0) => even { "even" } } }
main fn () { [grade(95), grade(85), grade(1), checks(4), checks(3)] }
"""
    assert value(src) == ["A", "B", "C", {"pos": "pos", "even": "even"}, {"pos": "pos"}]


def test_match_literals_types_unions_bindings():
    src = """
kind fn match (v) {
  null => "null"
  0 | 1 => "tiny"
  Int => "int"
  "" | "none" => "empty"
  Str (s) => `str ${s}`
  Vec => "vec"
  _ => "other"
}
main fn () { [kind(null), kind(1), kind(7), kind("none"), kind("x"), kind([1]), kind({})] }
"""
    assert value(src) == ["null", "tiny", "int", "empty", "str x", "vec", "other"]


def test_match_all_collects_by_pattern():
    src = 'main fn () { match-all 4 { Int => "int" 4 => "four" Str => "str" } }'
    assert value(src) == {"Int": "int", "4": "four"}


def test_result_match_unwraps_subject_in_arm():
    src = """
safe-div fn (a, b) { if(eq(b, 0), err("div by zero"), div(a, b)) }
describe fn (a, b) {
  r safe-div(a, b)
  match r { Result.Ok => `ok ${r}` Result.Err => `err ${r}` }
}
main fn () { [describe(4, 2), describe(1, 0)] }
"""
    assert value(src) == ["ok 2", "err div by zero"]


def test_result_semantics():
    src = """
bad fn () { err({message: "boom"}) }
main fn () {
  r bad()
  [is-err(r), is-ok(ok(1)), is-ok(5), if-err(r, (e) { e.message }), or(r, "fallback"),
   err-message(r), if-ok(ok(2), (v) { mul(v, 10) }), ok-value(ok(3))]
}
"""
    assert value(src) == [True, True, True, "boom", "fallback", "boom", 20, 3]


def test_consuming_an_err_halts_the_run():
    out = run('main fn () { r err("nope")\n add(r, 1) }')
    assert out.status == "failed"
    assert "nope" in out.error
    assert out.result["$type"] == "::hot::run/Failure"


def test_onerr_preserve_keeps_errs():
    src = """
load fn (n) { if(eq(n, 0), err("missing"), mul(n, 10)) }
main fn () {
  scores map([1, 0, 3], load, OnErr.Preserve)
  [length(scores), length(filter(scores, is-err))]
}
"""
    assert value(src) == [3, 1]


def test_fail_sets_failure_payload():
    out = run('main fn () { fail("broken", {code: 7}) }')
    assert out.status == "failed"
    assert out.result == {
        "$type": "::hot::run/Failure",
        "$val": {"msg": "broken", "err": {"code": 7}},
    }
    assert out.error == "broken"


def test_parallel_runs_sequentially_and_returns_a_map():
    src = """
main fn () {
  data parallel { a add(1, 1) b mul(a, 10) }
  vec: All<Vec> parallel { x 1 y 2 }
  [data, vec]
}
"""
    assert value(src) == [{"a": 2, "b": 20}, [1, 2]]


def test_pipes_and_placeholders():
    src = """
main fn () {
  a [1, 2, 3, 4] |> map(mul(%, 2)) |> filter(gt(%, 4))
  b reduce([1, 2, 3], add(%1, %2), 0)
  c map([{n: 1}, {n: 2}], %.n)
  d sort(map([3, 1], %(add(%, 1))))
  [a, b, c, d]
}
"""
    assert value(src) == [[6, 8], 6, [1, 2], [2, 4]]


def test_templates_and_block_templates():
    src = """
main fn () {
  name "Ada"
  a `Hi ${name}, ${add(1, 2)} ${[1, 2]} ${null}`
  b ```
    x=${name}
      y
    ```
  [a, b]
}
"""
    assert value(src) == ["Hi Ada, 3 [1, 2] ", "x=Ada\n  y"]


def test_maps_spread_and_punned_keys():
    src = """
main fn () {
  defaults {timeout: 5, retries: 3}
  email "a@b"
  v [0, ...[1, 2], 3]
  {...defaults, retries: 5, email, v: v, "x-y": 1}
}
"""
    assert value(src) == {"timeout": 5, "retries": 5, "email": "a@b", "v": [0, 1, 2, 3], "x-y": 1}


def test_lambdas_capture_values_at_creation():
    src = """
main fn () {
  x 1
  f () { x }
  x 2
  g fn () { x }
  [f(), g()]
}
"""
    assert value(src) == [1, 2]


def test_records_and_enums():
    src = """
User type {name: Str, age: Int?}
Dir enum { Up, Down }
Shape enum { Circle(Map), Dot }
where fn match (d) { Dir.Up => "up" Dir.Down => "down" }
main fn () {
  u User({name: "Ann"})
  c Shape.Circle({r: 2})
  [u.name, where(Dir.Up), where(Dir.Down), match c { Shape.Circle => "circle" _ => "?" }, u]
}
"""
    result = value(src)
    assert result[:4] == ["Ann", "up", "down", "circle"]
    assert result[4] == {"$type": "::t/User", "$val": {"name": "Ann"}}


def test_namespaces_aliases_and_imports():
    from hotlang import execute, prepare

    files = {
        "hot/src/lib.hot": "::app::lib ns\ndouble fn (x) { mul(x, 2) }\nbase 10\n",
        "hot/src/main.hot": (
            "::app::main ns\n::lib ::app::lib\ntwice ::app::lib/double\n"
            "main fn () {\n"
            '  [::lib/double(2), twice(3), ::app::lib/base, ::hot::str/uppercase("a")]\n'
            "}\n"
        ),
    }
    prepared = prepare(files)
    assert prepared.errors == []
    assert execute(prepared, "::app::main/main").result == [4, 6, 10, "A"]


def test_core_meta_makes_user_vars_global():
    from hotlang import execute, prepare

    files = {
        "a.hot": "::a ns\nshout meta {core: true} fn (s) { uppercase(s) }\n",
        "b.hot": '::b ns\nmain fn () { shout("hey") }\n',
    }
    assert execute(prepare(files), "::b/main").result == "HEY"


def test_unknown_name_is_a_runtime_error_with_location():
    out = run("main fn () {\n  nope(1)\n}\n")
    assert out.status == "failed"
    assert "unknown name 'nope'" in out.error
    assert "hot/src/t.hot:3:" in out.error


def test_wrong_arity_is_reported():
    out = run("f fn (a) { a }\nmain fn () { f(1, 2) }")
    assert out.status == "failed" and "no overload accepts 2" in out.error


def test_deep_non_tail_recursion_hits_depth_limit_not_python():
    src = "deep fn (n) { if(eq(n, 0), 0, add(1, deep(sub(n, 1)))) }\nmain fn (n) { deep(n) }"
    assert run(src, args=[1000]).result == 1000
    out = run(src, args=[10**6], limits=Limits(max_depth=5000))
    assert out.status == "failed"
    assert "recursion depth limit exceeded (5000 calls)" in out.error


def test_arrows_enroll_variants_and_register_str_conversions():
    src = """
Animal enum open { Dog }
Bird type {name: Str}
Bird -> Animal.Bird
Day type {y: Int, m: Int}
Day -> Str fn (d: Day): Str { `${d.y}-${d.m}` }
main fn () {
  b Animal.Bird({name: "tweety"})
  [is-type(b, Animal.Bird), b.name, Str(Day({y: 2024, m: 5})), `on ${Day({y: 1, m: 2})}`]
}
"""
    assert value(src) == [True, "tweety", "2024-5", "on 1-2"]


def test_record_constructor_overloads_and_missing_fields():
    src = """
Range type {start: Int, end: Int}
fn (end: Int): Range { Range({start: 0, end: end}) },
   (start: Int, end: Int): Range { Range({start: start, end: end}) }
Box type {w: Int, h: Int}
main fn () {
  r Range(5)
  bad Box({w: 1})
  [r.start, r.end, Range(2, 3).start, is-err(bad), err-message(bad)]
}
"""
    assert value(src) == [0, 5, 2, True, "Box: missing field(s) 'h'"]


def test_match_fn_with_result_arms_receives_errs():
    src = """
handle fn match (r) { Result.Ok => `got ${r}` Result.Err => `error ${r}` }
main fn () { [handle(ok(1)), handle(err("bad")), handle(5)] }
"""
    assert value(src) == ["got 1", "error bad", "got 5"]
