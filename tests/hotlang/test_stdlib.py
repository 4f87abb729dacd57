import pytest

from hotlang.stdlib import LIB

from .helpers import expr

CASES = [
    # math
    ("add(1, 2, 3)", 6),
    ("sub(1, 1.5)", -0.5),
    ("mul(1.5, 1.5)", 2.25),
    ("div(1, 2)", 0.5),
    ("is-err(div(1, 0))", True),
    ("mod(7, 3)", 1),
    ("mod(-7, 3)", -1),
    ("mod(2.5, 1)", 0.5),
    ("pow(2, 10)", 1024),
    ("pow(1.5, 2)", 2.25),
    ("abs(-3)", 3),
    ("min(3, 1, 2)", 1),
    ("max([3, 9, 2])", 9),
    ("round(2.5)", 3),
    ("round(-2.3)", -2),
    ("floor(-2.3)", -3),
    ("ceil(2.1)", 3),
    ("Str(round(3.14159, 2))", "3.14"),
    ("[is-zero(0), is-pos(1), is-neg(-1)]", [True, True, True]),
    ("is-int(rand-int(10))", True),
    ("is-dec(rand())", True),
    # comparison / booleans
    ("[eq(1, 1), eq(1, 1.0), eq(1, true), ne(1, 2)]", [True, True, False, True]),
    ('[lt(1, 2), lte(2, 2), gt("b", "a"), gte(1, 2)]', [True, True, True, False]),
    ('[between(5, 1, 10), in(2, [1, 2]), in("a", {a: 1})]', [True, True, True]),
    ("[and(1, 2), and(1, null), or(null, 0), or(null, false)]", [2, None, 0, False]),
    ('[not(0), not(null), is-truthy("")]', [False, True, True]),
    # types and conversions
    (
        '[Str(42), Str(1.50), Str(true), Str(null), Str([1, "a", null]), Str({a: 1})]',
        ["42", "1.50", "true", "", '[1, "a", ]', "{a: 1}"],
    ),
    ('[Int("42"), Int(3.9), Dec("1.25"), Bool(0), Bool(null)]', [42, 3, 1.25, True, False]),
    ('is-err(Int("x"))', True),
    (
        '[is-str(""), is-vec([]), is-map({}), is-null(null), is-some(0), is-fn(add)]',
        [True, True, True, True, True, True],
    ),
    # collections
    ("map([1, 2], (x) { mul(x, 3) })", [3, 6]),
    ("map({a: 1, b: 2}, (k, v) { `${k}${v}` })", ["a1", "b2"]),
    ("filter([1, 2, 3, 4], (x) { eq(mod(x, 2), 0) })", [2, 4]),
    ("filter({a: 1, b: 2}, (k, v) { gt(v, 1) })", {"b": 2}),
    ("remove([1, 2, 3], (x) { eq(x, 2) })", [1, 3]),
    ("reduce([1, 2, 3], (acc, x) { add(acc, x) }, 10)", 16),
    ("reduce([1, 2, 3, 4], (acc, x) { if(gt(x, 2), reduced(acc), add(acc, x)) }, 0)", 3),
    (
        "[first([1, 2]), last([1, 2]), rest([1, 2, 3]), butlast([1, 2, 3]), first([])]",
        [1, 2, [2, 3], [1, 2], None],
    ),
    (
        '[length([1]), length("abc"), length({a: 1}), is-empty([]), is-empty("x")]',
        [1, 3, 1, True, False],
    ),
    ('[get({a: 1}, "a"), get([1, 2], 5, "d"), get-in({a: {b: [5]}}, ["a", "b", 0])]', [1, "d", 5]),
    ('assoc({a: 1}, "b", 2)', {"a": 1, "b": 2}),
    ('assoc-in({}, ["a", "b"], 1)', {"a": {"b": 1}}),
    ('update({n: 1}, "n", (x) { add(x, 1) })', {"n": 2}),
    ('update-in({a: {n: 1}}, ["a", "n"], add(%, 5))', {"a": {"n": 6}}),
    ('delete({a: 1, b: 2}, "a")', {"b": 2}),
    ("merge({a: 1, n: {x: 1}}, {b: 2, n: {y: 2}})", {"a": 1, "n": {"x": 1, "y": 2}, "b": 2}),
    ("[keys({a: 1, b: 2}), vals({a: 1, b: 2})]", [["a", "b"], [1, 2]]),
    ('[concat([1], [2, 3]), concat("a", 1, true)]', [[1, 2, 3], "a1true"]),
    ("flatten([1, [2, [3]]])", [1, 2, 3]),
    ("[range(3), range(1, 4), range(0, 10, 5)]", [[0, 1, 2], [1, 2, 3], [0, 5]]),
    (
        "[sort([3, 1, 2]), sort-by([{n: 2}, {n: 1}], %.n), reverse([1, 2])]",
        [[1, 2, 3], [{"n": 1}, {"n": 2}], [2, 1]],
    ),
    (
        '[distinct([1, 1, 2]), slice([1, 2, 3, 4], 1, 3), slice("hello", 1)]',
        [[1, 2], [2, 3], "ello"],
    ),
    (
        "[some([1, 2], gt(%, 1)), all([1, 2], gt(%, 1)), find-first([1, 2, 3], gt(%, 1))]",
        [True, False, 2],
    ),
    (
        'group-by([1, 2, 3], (x) { if(eq(mod(x, 2), 0), "even", "odd") })',
        {"odd": [1, 3], "even": [2]},
    ),
    (
        '[frequencies(["a", "b", "a"]), zipmap(["a", "b"], [1, 2])]',
        [{"a": 2, "b": 1}, {"a": 1, "b": 2}],
    ),
    (
        "[partition([1, 2, 3], 2), interpose(0, [1, 2]), mapcat([1, 2], (x) { [x, x] })]",
        [[[1, 2], [3]], [1, 0, 2], [1, 1, 2, 2]],
    ),
    ('map-indexed(["a", "b"], (i, x) { `${i}${x}` })', ["0a", "1b"]),
    ('[filter-keys({a: 1, b: 2}, eq(%, "a")), map-vals({a: 1}, add(%, 1))]', [{"a": 1}, {"a": 2}]),
    # strings
    (
        '[uppercase("ab"), lowercase("AB"), trim(" x "), trim-start(" x"), trim-end("x ")]',
        ["AB", "ab", "x", "x", "x"],
    ),
    (
        '[split("a,b", ","), join(["a", 1], "-"), replace("aaa", "a", "b")]',
        [["a", "b"], "a-1", "bbb"],
    ),
    (
        '[contains("hello", "ell"), starts-with("hello", "he"), ends-with("hello", "lo")]',
        [True, True, True],
    ),
    ('[pad-start(42, 5, "0"), pad-end("go", 5, "ab"), is-blank("  ")]', ["00042", "goaba", True]),
    ('replace-first("aaa", "a", "b")', "baa"),
    # json and encodings
    ('to-json({a: [1, 2.5, null, true], b: "x"})', '{"a":[1,2.5,null,true],"b":"x"}'),
    ('from-json("{\\"a\\": [1, 2.25]}")', {"a": [1, 2.25]}),
    ('is-err(from-json("{"))', True),
    ('::hot::hex/encode("Hello")', "48656c6c6f"),
    ('eq(::hot::hex/decode("48656c6c6f"), Bytes("Hello"))', True),
    ('::hot::base64/encode("Hello, World!")', "SGVsbG8sIFdvcmxkIQ=="),
    ('::hot::base64/encode-url("Hello")', "SGVsbG8"),
    (
        '::hot::hash/sha256("abc")',
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    ),
    ('::hot::hash/md5("")', "d41d8cd98f00b204e9800998ecf8427e"),
    (
        '::hot::hmac/hmac-sha256("key", "msg")',
        "2d93cbc1be167bcb1637a4a23cbff01a7878f0c50ee833954ea5221bb1b8c628",
    ),
    ('::hot::hmac/hmac-verify("key", "msg", ::hot::hmac/hmac-sha256("key", "msg"))', True),
    ('[is-uuid(Uuid(4)), is-uuid(Str(Uuid(7))), is-uuid("nope")]', [True, True, False]),
    ("length(::hot::random/random-string(12))", 12),
    ('::hot::random/secure-compare("a", "a")', True),
    ("is-int(::hot::time/epoch-millis())", True),
    # uri, mime, regex
    ('::hot::uri/encode("a=1&b c")', "a%3D1%26b%20c"),
    ('::hot::uri/query-string({q: "a b", n: 2, skip: null})', "?q=a+b&n=2"),
    ('::hot::uri/decode-query("?x=1&y=a+b")', {"x": "1", "y": "a b"}),
    ('::hot::uri/parse("https://u@h.io:81/p?q=1#f").port', 81),
    ('::hot::uri/join("https://h.io/", "a", "b")', "https://h.io/a/b"),
    (
        '[::hot::mime/from-ext("png"), ::hot::mime/from-path("a/b.json")]',
        ["image/png", "application/json"],
    ),
    ('[::hot::mime/is-image("image/gif"), ::hot::mime/major-type("text/html")]', [True, "text"]),
    (
        '::hot::regex/find-all("a1b22", "\\\\d+")',
        [{"match": "1", "start": 1, "end": 2}, {"match": "22", "start": 3, "end": 5}],
    ),
    ('::hot::regex/replace-all("a1b2", "[0-9]", "#")', "a#b#"),
    ('is-err(::hot::regex/is-match("x", "("))', True),
    ('::hot::time/epoch-seconds("2024-01-01T00:00:00Z")', 1704067200),
]


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_library_function(source, expected):
    assert expr(source) == expected


def test_library_registry_has_namespaces_and_core_names():
    from hotlang.stdlib import CORE

    assert {"::hot::coll", "::hot::str", "::hot::math", "::hot::json"} <= set(LIB)
    for name in ("map", "filter", "reduce", "add", "if", "assert-eq", "to-json", "send"):
        assert name in CORE


BINARY = [
    ("[::hot::bit/and(12, 10), ::hot::bit/or(12, 10), ::hot::bit/xor(12, 10)]", [8, 14, 6]),
    (
        "[::hot::bit/not(0), ::hot::bit/shift-left(1, 4), ::hot::bit/shift-right(16, 2)]",
        [-1, 16, 4],
    ),
    ("::hot::bytes/to-vec(::hot::bytes/from-int(256, 2))", [1, 0]),
    ('::hot::bytes/to-int(Bytes([1, 0]), "little")', 1),
    ('::hot::bytes/crc32("hello")', 907060870),
    ("::hot::bytes/index-of(Bytes([1, 0, 2, 0]), 0, 2)", 3),
    ("[Bytes([5, 6])[1], length(concat(Bytes([1]), Bytes([2])))]", [6, 2]),
]


@pytest.mark.parametrize(("source", "expected"), BINARY, ids=[c[0][:40] for c in BINARY])
def test_binary_function(source, expected):
    assert expr(source) == expected
