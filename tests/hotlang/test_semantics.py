"""Regression tests for the semantics Hot's own suites showed hotlang had wrong."""

from hotlang import Hooks, execute

from .helpers import expr, program, run, value


def test_underscore_is_the_default_arm_of_cond_and_match():
    src = """
sign fn cond (x: Int): Str {
  lt(x, 0) => { "negative" }
  _ => { "other" }
}
name fn match (code: Int): Str {
  200 => { "ok" }
  _ => { "unknown" }
}
main fn () { [sign(-1), sign(3), name(200), name(500)] }
"""
    assert value(src) == ["negative", "other", "ok", "unknown"]


def test_nested_placeholders_form_one_lambda():
    assert expr("::hot::coll/map([1, 2, 3], add(mul(%, 2), 1))") == [3, 5, 7]
    assert expr("[1, 2] |> ::hot::coll/map(add(mul(%, 10), 1)) |> ::hot::coll/sum()") == 32
    # a bare % stays the element itself
    assert expr("::hot::coll/filter([1, 2, 3], gt(%, 1))") == [2, 3]


def test_regex_replacement_expands_group_references():
    rx = "::hot::regex"
    assert expr(f'{rx}/replace-all("a1 b2", "([a-z])([0-9])", "$2$1")') == "1a 2b"
    assert expr(f'{rx}/replace-all("<b>x</b>", "<b>(.*?)</b>", "*${{1}}*")') == "*x*"
    assert expr(f'{rx}/replace("cost 5", "([0-9]+)", "$$$1")') == "cost $5"
    assert expr(f'{rx}/replace("k=v", "(?<key>\\\\w+)=(?<val>\\\\w+)", "${{val}}=${{key}}")') == (
        "v=k"
    )
    assert expr(f'{rx}/capture("k=v", "(?<key>\\\\w+)=")') == {
        "match": "k=",
        "groups": ["k"],
        "named": {"key": "k"},
    }


def test_println_and_print_return_the_printed_text():
    out = run('main fn () { [println("hi", 1), print("x")] }\n')
    assert out.result == ["hi 1\n", "x"]
    assert out.stdout == "hi 1\nx"


def test_untype_is_deep():
    src = """
Msg type { role: Str }
main fn () { untype({messages: [Msg({role: "user"})], one: Msg({role: "x"})}) }
"""
    assert value(src) == {"messages": [{"role": "user"}], "one": {"role": "x"}}


def test_byte_and_bytes_equal_their_numeric_forms():
    assert expr("[eq(Byte(10), 10), eq(10, Byte(10)), eq(Bytes([1, 2]), [1, 2])]") == [
        True,
        True,
        True,
    ]
    assert expr("[eq(Byte(10), 11), eq(Bytes([1, 2]), [1, 3])]") == [False, False]


def test_cancel_inside_contain_becomes_an_err():
    src = """
stop fn () { cancel("user cancelled", {why: "test"}) }
main fn () {
  r ::hot::internal::exec/contain(stop, [])
  [is-err(r), if-err(r, (e) { e.msg })]
}
"""
    assert value(src) == [True, "user cancelled"]
    # outside contain, cancel still cancels the run
    assert run('main fn () { cancel("bye") }\n').status == "cancelled"


def test_pbkdf2_and_terminal_colours():
    key = expr('::hot::hex/encode(::hot::crypto/pbkdf2-hmac-sha256("password", "salt", 1))')
    assert key == "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"
    assert run('main fn () { ::hot::crypto/pbkdf2-hmac-sha256("p", "s", 0) }\n').status == (
        "failed"
    )
    assert expr('[::hot::term/red("x"), ::hot::term/colors.bright-red]') == ["\x1b[31mx\x1b[0m", 91]


def test_env_comes_from_the_host():
    class EnvHooks(Hooks):
        def env_all(self):
            return {"REGION": "eu"}

    prepared = program('::t ns\nmain fn () { [::hot::env/get-all(), ::hot::env/get("REGION")] }\n')
    out = execute(prepared, "::t/main", hooks=EnvHooks())
    assert out.result == [{"REGION": "eu"}, "eu"]
    # a host without env_all exposes nothing, never the server's own environment
    assert execute(prepared, "::t/main", hooks=Hooks()).result == [{}, None]


def test_typed_construction_builds_nested_records_vec_items_and_infers_variants():
    src = """
Circle type { radius: Dec }
Rect type { width: Dec, height: Dec }
Shape enum { Circle(Circle), Rect(Rect) }
main fn () {
  Tag type { key: Str }
  Item type { name: Str, tags: Vec<Tag>, shape: Shape? }
  ok Item({name: "w", tags: [{key: "a"}], shape: {radius: 2}})
  bad Item({name: "w", tags: [{key: "a"}, {}]})
  wrong Item("not a map")
  [is-type(ok.tags[0], Tag), is-type(ok.shape, Shape.Circle), ok.shape.radius,
   if-err(bad, (e) { e.message }), is-err(wrong)]
}
"""
    assert value(src) == [True, True, 2, "item 1: Tag: missing field(s) 'key'", True]


def test_namespace_reflection():
    src = """
helper fn () { 1 }
main fn () {
  [namespaces(), functions-in-namespace(::t),
   contains(functions-in-namespace(::hot::io), "println")]
}
"""
    spaces, own, has_println = value(src)
    assert spaces[0] == "::t" and "::hot::coll" in spaces
    assert own == ["helper", "main"] and has_println is True


def test_all_shapes_on_cond_pipes_and_annotated_bindings():
    src = """
main fn () {
  by-label: All<Map> cond {
    false => skip { 0 }
    true => m { seed 1  inner: All<Map> serial { a seed b 2 }  inner }
  }
  as-vec: All<Vec> cond { true => { "x" } }
  steps: All<Map> 5 |> add(2) |> mul(3)
  step-list: All<Vec> 5 |> add(2)
  tagged All({value: 1})
  [by-label, as-vec, steps, step-list, is-type(tagged, All)]
}
"""
    assert value(src) == [
        {"m": {"a": 1, "b": 2}},
        ["x"],
        {"$pipe_0": 5, "$pipe_1": 7, "$pipe_2": 21},
        [5, 7],
        True,
    ]


def test_uri_type_and_its_str_coercion():
    src = """
main fn () {
  u ::hot::uri/Uri("https://me@example.com:8080/p?q=1#f")
  bare ::hot::uri/Uri("https://example.com")
  [u.host, u.port, Str(u), `${Str(bare)}/api`, is-type(u, ::hot::uri/Uri)]
}
"""
    assert value(src) == [
        "example.com",
        8080,
        "https://me@example.com:8080/p?q=1#f",
        "https://example.com/api",
        True,
    ]


def test_xml_parses_serialises_and_navigates():
    src = """
main fn () {
  doc from-xml("<a:root xmlns:a='u' id='1'><item>x &amp; y</item><item/></a:root>")
  [doc.tag, ::hot::xml/attr(doc, "id"), ::hot::xml/text(::hot::xml/child(doc, "item")),
   length(::hot::xml/children(doc, "item")), to-xml(::hot::xml/Xml({tag: "b", content: ["<"]})),
   is-err(from-xml("<unclosed>"))]
}
"""
    assert value(src) == ["a:root", "1", "x & y", 2, "<b>&lt;</b>", True]


def test_arrows_coerce_arguments_at_call_boundaries():
    src = """
Inches type { value: Dec }
Centimeters type { value: Dec }
Inches -> Centimeters fn (i: Inches): Centimeters { Centimeters({value: mul(i.value, 2.54)}) }
needs-cm fn (c: Centimeters): Dec { c.value }

Geom enum open { }
Triangle type { base: Dec }
Triangle -> Geom.Tri
describe fn (g: Geom): Str { match g { Geom.Tri => "triangle", _ => "other" } }

main fn () {
  [Str(needs-cm(Inches({value: 10.0}))), needs-cm(Centimeters({value: 1.5})),
   describe(Triangle({base: 3.0}))]
}
"""
    assert value(src) == ["25.400", 1.5, "triangle"]


def test_arrow_registration_does_not_accumulate_across_executions():
    prepared = program(
        "::t ns\nA type { v: Int }\nB type { v: Int }\n"
        "A -> B fn (a: A): B { B({v: a.v}) }\nf fn (b: B) { b.v }\nmain fn () { f(A({v: 1})) }\n"
    )
    for _ in range(3):
        assert execute(prepared, "::t/main", []).result == 1
    a_type = prepared.program.namespaces["::t"].vars["A"]
    assert len(a_type.arrows) == 1


def test_placeholders_in_a_user_functions_fn_parameter_form_their_own_lambda():
    src = """
apply-twice fn (x: Int, f: Fn): Int { f(f(x)) }
maybe-apply fn (x: Int, f: Fn | Null): Int { if(is-null(f), x, f(x)) }
main fn () {
  [apply-twice(3, add(%, 2)), add(1, apply-twice(3, mul(%, 2))), maybe-apply(10, add(%, 1)),
   ::hot::coll/map([1, 2], apply-twice(%, add(%, 1)))]
}
"""
    assert value(src) == [7, 13, 11, [3, 4]]
