"""Metadata and function-signature reflection: `::hot::meta`, `::hot::internal::mcp`,
`::hot::internal::skill`."""

from .helpers import run, value


def test_scalar_meta_form_and_meta_get_on_namespace_vars_and_locals():
    src = """
greeting meta "A greeting" "Hello"
tagged meta {doc: "x", core: false} fn () { 1 }
main fn () {
  a meta 1 42
  b meta "local doc" "v"
  plain 3
  [::hot::meta/get(greeting), ::hot::meta/get(a), ::hot::meta/get(b), ::hot::meta/get(plain),
   ::hot::meta/get(tagged), ::hot::meta/get(::t/greeting), greeting, a]
}
"""
    assert value(src) == [
        "A greeting",
        1,
        "local doc",
        None,
        {"doc": "x", "core": False},
        "A greeting",
        "Hello",
        42,
    ]


def test_meta_get_through_an_alias_and_source_location():
    src = """
get-meta ::hot::meta/get
helper meta {doc: "helps"} fn () { 1 }
main fn () {
  src source(helper)
  [get-meta(helper), src.line, src.column, ends-with(src.file, "t.hot")]
}
"""
    assert value(src) == [{"doc": "helps"}, 4, 1, True]


TOOLS = """
Tag type { key: Str, note: Str? }
Shape enum { Circle(Tag), Point }
Color enum { Red, Green }
Tree type { value: Int, children: Vec<Tree> }

search
meta {doc: "  Search the index.  ", tool: {name: "search_idx"}}
fn (query: Str, limit: Int?, tags: Vec<Tag>, shape: Shape, color: Color, tree: Tree,
    headers: Map<Str, Str>?, anything, id: Uuid): Vec<Str> {
  [query]
}

untyped fn (x) { x }
pinged meta {mcp: {name: "ping_tool", description: "MCP desc"}, doc: "doc"} fn (m: Str) { m }
tone meta {skill: {description: "How we talk", when: ["trigger"]}} fn (x: Str): Str { x }
"""


def test_schema_from_fn_derives_the_input_schema_from_typed_parameters():
    spec = value(TOOLS + "main fn () { ::hot::internal::mcp/schema-from-fn(search) }\n")
    tag = {
        "type": "object",
        "properties": {
            "key": {"type": "string"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["key"],
    }
    tree = {
        "type": "object",
        "properties": {
            "value": {"type": "integer"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/Tree"}},
        },
        "required": ["value", "children"],
    }
    assert spec == {
        "name": "::t/search",
        "input-schema": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                "tags": {"type": "array", "items": tag},
                "shape": {
                    "oneOf": [
                        {
                            "type": "object",
                            "properties": {"$type": {"const": "Shape.Circle"}, "$val": tag},
                            "required": ["$type", "$val"],
                        },
                        {
                            "type": "object",
                            "properties": {"$type": {"const": "Shape.Point"}},
                            "required": ["$type"],
                        },
                    ],
                    "discriminator": {"propertyName": "$type"},
                },
                "color": {"enum": ["Red", "Green"]},
                "tree": {"$ref": "#/$defs/Tree"},
                "headers": {
                    "anyOf": [
                        {"type": "object", "additionalProperties": {"type": "string"}},
                        {"type": "null"},
                    ]
                },
                "anything": {},
                "id": {"type": "string", "format": "uuid"},
            },
            "required": ["query", "tags", "shape", "color", "tree", "id"],
            "$defs": {"Tree": tree},
        },
        "output-schema": {"type": "array", "items": {"type": "string"}},
        "description": "Search the index.",
        "display-name": "search_idx",
    }


def test_schema_from_fn_untyped_mcp_meta_names_and_errors():
    src = (
        TOOLS
        + """
main fn () {
  u ::hot::internal::mcp/schema-from-fn(untyped)
  p ::hot::internal::mcp/schema-from-fn("::t/pinged")
  missing ::hot::internal::mcp/schema-from-fn("::t/nope")
  lam ::hot::internal::mcp/schema-from-fn((x: Int) { x })
  all ::hot::internal::mcp/all-tool-schemas()
  [u, p.description, p.display-name, is-err(missing), is-err(lam),
   ::hot::coll/some(all, (s) { eq(s.name, "::t/tone") })]
}
"""
    )
    assert value(src) == [
        {
            "name": "::t/untyped",
            "input-schema": {"type": "object", "properties": {"x": {}}},
            "output-schema": None,
        },
        "MCP desc",
        "ping_tool",
        True,
        True,
        True,
    ]


def test_invoke_with_input_orders_named_arguments():
    src = (
        TOOLS
        + """
greet fn (name: Str, greeting: Str?): Str { `${greeting} ${name}` }
whole fn (input) { input }
main fn () {
  [::hot::internal::mcp/invoke-with-input(greet, {greeting: "Hi", name: "Ann", extra: 1}),
   ::hot::internal::mcp/invoke-with-input((a, b) { [b, a] }, {a: 1, b: 2}),
   ::hot::internal::mcp/invoke-with-input(whole, {input: {k: 1}}),
   ::hot::internal::mcp/invoke-with-input(::hot::coll/keys, {k: 1})]
}
"""
    )
    # every function of the program has a schema (an untyped parameter is `{}`), so only a
    # function with none (a native) receives the whole Map
    assert value(src) == ["Hi Ann", [2, 1], {"k": 1}, ["k"]]


def test_skill_meta_from_fn():
    src = (
        TOOLS
        + """
main fn () {
  [::hot::internal::skill/meta-from-fn(tone), is-err(::hot::internal::skill/meta-from-fn(search)),
   ::hot::coll/length(::hot::internal::skill/all-skill-metas())]
}
"""
    )
    assert value(src) == [
        {"description": "How we talk", "when": ["trigger"], "fn-name": "::t/tone"},
        True,
        1,
    ]


def test_reflection_errors_are_values_not_crashes():
    out = run("main fn () { ::hot::internal::mcp/invoke-with-input(1, {}) }\n")
    assert out.status == "failed"
    assert "first argument must be a function" in out.error
