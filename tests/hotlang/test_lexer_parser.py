from decimal import Decimal

import pytest

from hotlang import HotSyntaxError, prepare
from hotlang import ast as A
from hotlang.lexer import tokenize
from hotlang.parser import parse


def kinds(src):
    return [(t.kind, t.value) for t in tokenize(src)[:-1]]


def test_identifiers_with_hyphens_and_numbers():
    assert kinds("is-zero -17 19.99 0b101 1e3") == [
        ("name", "is-zero"),
        ("int", -17),
        ("dec", "19.99"),
        ("int", 5),
        ("dec", "1e3"),
    ]


def test_qualified_names_and_comments():
    toks = kinds("::hot::str/uppercase // c\n /* block */ ::http")
    assert toks == [("qname", ("::hot::str", "uppercase")), ("qname", ("::http", None))]


def test_string_escapes_and_unknown_escape_kept():
    assert kinds(r'"a\n\"b\" \d"') == [("str", 'a\n"b" \\d')]


def test_block_string_strips_indent():
    src = 'x """\n    line one\n      indented\n    """'
    (stmt,) = parse("::t ns\n" + src)[1:]
    assert stmt.value.value == "line one\n  indented"


def test_template_parts():
    (stmt,) = parse("::t ns\nx `Hi ${name}!`")[1:]
    parts = stmt.value.parts
    assert parts[0] == "Hi " and isinstance(parts[1], A.Name) and parts[2] == "!"


def test_whitespace_decides_call_vs_lambda_binding():
    stmts = parse("::t ns\na f(x)\nb (x) { x }\n")
    assert isinstance(stmts[1].value, A.Call)
    assert isinstance(stmts[2].value, A.FnDef) and stmts[2].value.is_lambda


def test_map_versus_block():
    stmts = parse("::t ns\nm {a: 1, b}\nblk { a }\nempty {}\n")
    assert isinstance(stmts[1].value, A.MapLit)
    assert [k for k, _ in stmts[1].value.items] == ["a", "b"]
    assert isinstance(stmts[2].value, A.Flow)
    assert isinstance(stmts[3].value, A.MapLit)


def test_deep_path_and_append_targets():
    stmts = parse('::t ns\nuser.settings.theme "dark"\nlist[] 1\nxs[2] 3\n')
    assert stmts[1].path == [("field", "settings"), ("field", "theme")]
    assert stmts[2].path == [("append", None)]
    assert stmts[3].path[0][0] == "index"


def test_fn_overloads_variadic_lazy_and_meta():
    src = (
        "::t ns\n"
        'f meta {doc: "d"}\n'
        "fn (x: Int): Str { x }, (x: Str, ...rest) { x }\n"
        "g fn (lazy a, b: Str?) { do a }\n"
    )
    f, g = parse(src)[1:]
    assert len(f.value.overloads) == 2
    assert f.value.overloads[1].params[1].variadic
    assert g.value.overloads[0].params[0].lazy
    assert g.value.overloads[0].params[1].type.atoms == ["Str", "Null"]
    assert f.meta is not None


def test_flows_and_patterns():
    src = (
        "::t ns\n"
        'c fn cond (x) { lt(x, 0) => "neg" => "pos" }\n'
        'm match v { 1 | 2 => "small" Str (s) => s Result.Ok => 1 _ => 0 }\n'
    )
    c, m = parse(src)[1:]
    assert c.value.overloads[0].flow == "cond"
    arms = m.value.body
    assert [p.kind for p in arms[0].patterns] == ["lit", "lit"]
    assert arms[1].bind == "s"
    assert arms[2].patterns[0].value == ("Result.Ok", False)
    assert arms[3].patterns[0].kind == "any"


def test_placeholders_become_lambdas_at_the_argument():
    (stmt,) = parse("::t ns\nx map(xs, mul(%, 2))")[1:]
    arg = stmt.value.args[1][1]
    assert isinstance(arg, A.PhLambda) and arg.nparams == 1
    (stmt,) = parse("::t ns\nx reduce(xs, add(%1, %2), 0)")[1:]
    assert stmt.value.args[1][1].nparams == 2


def test_pipe_and_dec_literal():
    (stmt,) = parse("::t ns\nx 1.50 |> add(2)")[1:]
    assert isinstance(stmt.value, A.Pipe)
    assert stmt.value.lhs.value == Decimal("1.50")


def test_types_and_enums_parse():
    src = (
        "::t ns\n"
        "User type {name: Str, age: Int?}\n"
        "Dir enum { Up, Down }\n"
        'Fruit type "apple" | "pear"\n'
    )
    user, d, fruit = parse(src)[1:]
    assert user.value.kind == "type" and d.value.kind == "enum" and fruit.value.kind == "alias"


def test_every_node_has_a_location():
    stmts = parse("::t ns\nf fn (x) {\n  y add(x, 1)\n  y\n}\n", "f.hot")
    body = stmts[1].value.overloads[0].body
    assert body[0].loc == ("f.hot", 3, 3)
    assert body[0].value.loc[1:] == (3, 8)


@pytest.mark.parametrize(
    ("src", "line", "col", "fragment"),
    [
        ("::t ns\nx [1, 2\n", 3, 1, "expected ','"),
        ('::t ns\nx "open\n', 2, 3, "unterminated string"),
        ("::t ns\nf fn (x) { x\n", 3, 1, "expected '}'"),
        ("::t ns\nx `a ${b`\n", 2, 9, "unterminated"),
        ("::t ns\nx ~\n", 2, 3, "unexpected"),
    ],
)
def test_syntax_errors_name_file_line_col(src, line, col, fragment):
    with pytest.raises(HotSyntaxError) as ei:
        parse(src, "bad.hot")
    e = ei.value
    assert (e.file, e.line, e.col) == ("bad.hot", line, col), str(e)
    assert fragment in e.message
    assert str(e).startswith(f"bad.hot:{line}:{col}:")


def test_prepare_reports_errors_per_file():
    prepared = prepare({"a.hot": "::a ns\nok 1\n", "b.hot": "::b ns\nx [\n"})
    assert len(prepared.errors) == 1
    err = prepared.errors[0]
    assert err["file"] == "b.hot" and err["line"] == 3 and "message" in err


def test_code_before_namespace_is_an_error():
    prepared = prepare({"a.hot": "x 1\n"})
    assert prepared.errors and "namespace" in prepared.errors[0]["message"]
