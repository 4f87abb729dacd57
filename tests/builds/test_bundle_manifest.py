"""builds.bundle.manifest: the data-only manifest.hot parser and its interpretation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from builds.bundle.errors import BundleError
from builds.bundle.manifest import (
    HotByte,
    interpret_manifest,
    parse_hot_data,
    parse_manifest,
    split_fn,
    to_jsonable,
)
from tests import bundles as B


def _err(text: str | bytes, **kw: int) -> BundleError:
    with pytest.raises(BundleError) as info:
        parse_hot_data(text, **kw)
    return info.value


# -- literals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("{}", {}),
        ("[]", []),
        ('"hi"', "hi"),
        ("42", 42),
        ("-7", -7),
        ("1.25", Decimal("1.25")),
        ("1e3", Decimal("1e3")),
        ("-2.5E-2", Decimal("-0.025")),
        ("true", True),
        ("false", False),
        ("null", None),
        ("[1, 2, 3]", [1, 2, 3]),
        ("[1 2 3]", [1, 2, 3]),  # commas are optional, as in Hot source
        ("[1, 2, 3,]", [1, 2, 3]),  # trailing comma
        ("{a: 1, b: 2,}", {"a": 1, "b": 2}),
        ("{a: 1\n b: 2}", {"a": 1, "b": 2}),
        ('{"user:created": 1}', {"user:created": 1}),
        ("{on-event: 1, $x_y: 2}", {"on-event": 1, "$x_y": 2}),
        ("{::app::main/on-signup: 1}", {"::app::main/on-signup": 1}),
        ("{::app::main: 1}", {"::app::main": 1}),
        ("Byte(7)", 7),
        ("Bytes([1, 2, 255])", b"\x01\x02\xff"),
        ("Bytes([])", b""),
        ("  {a: [ {b: null} ] }  ", {"a": [{"b": None}]}),
    ],
)
def test_literals(text, value):
    assert parse_hot_data(text) == value


def test_byte_keeps_its_type():
    assert isinstance(parse_hot_data("Byte(1)"), HotByte)


def test_string_escapes():
    assert parse_hot_data(r'"a\nb\rc\td\"e\\f"') == 'a\nb\rc\td"e\\f'
    # Everything else, including raw control characters and unicode, is verbatim.
    assert parse_hot_data('"tab\there \u00e9 \U0001f525"') == "tab\there \u00e9 \U0001f525"


def test_comments_are_skipped():
    text = """// header
    {
      a: 1, // trailing
      /* block
         comment */ b: [2 /* inline */, 3]
    }
    """
    assert parse_hot_data(text) == {"a": 1, "b": [2, 3]}


def test_repeated_keys_keep_the_last_value_like_hot():
    assert parse_hot_data("{a: 1, a: 2}") == {"a": 2}


def test_utf8_bom_is_ignored():
    assert parse_hot_data("\ufeff{a: 1}".encode()) == {"a": 1}


# -- rejections with positions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ('{a: "x}', "1:5", "unterminated string"),
        ('"\\u0041"', "1:2", "escape"),
        ("{a: `tpl ${x}`}", "1:5", "template"),
        ("{a: some-var}", "1:5", "not data"),
        ("{a: fn () { 1 }}", "1:5", "not data"),
        ("{a: call(1)}", "1:5", "not data"),
        ("{a 1}", "1:4", "expected ':'"),
        ("{1: 2}", "1:2", "map keys"),
        ("[1, 2", "1:6", "end of input"),
        ("{a: 1} extra", "1:8", "after the manifest"),
        ("{a: 1.}", "1:5", "decimal"),
        ("{a: 1e}", "1:5", "exponent"),
        ("{a: 12abc}", "1:5", "number"),
        ("{a: 99999999999999999999}", "1:5", "64 bits"),
        ("{a: Byte(256)}", "1:10", "between 0 and 255"),
        ("{a: Bytes([1, x])}", "1:15", "between 0 and 255"),
        ("/* open", "1:1", "comment"),
        ("", "1:1", "end of input"),
        ("{\n  a: 1,\n  b: ?\n}", "3:6", "data literal"),
    ],
)
def test_errors_carry_line_and_column(text, where, words):
    err = _err(text)
    assert err.code == "manifest_invalid"
    assert err.message.startswith(f"manifest.hot:{where}:"), err.message
    assert words in err.message


def test_not_utf8():
    err = _err(b'{a: "\xff"}')
    assert err.code == "manifest_invalid"
    assert "UTF-8" in err.message


def test_size_limit():
    assert parse_hot_data("[1]", max_bytes=3) == [1]
    err = _err("[1] ", max_bytes=3)
    assert err.code == "manifest_too_large"


def test_depth_limit():
    ok = "[" * 64 + "]" * 64
    assert parse_hot_data(ok, max_depth=64)
    err = _err("[" * 65 + "]" * 65, max_depth=64)
    assert err.code == "manifest_too_deep"
    assert _err("{a: " * 70 + "1" + "}" * 70).code == "manifest_too_deep"
    # Python's recursion limit is never the one that trips.
    assert _err("[" * 100_000).code == "manifest_too_deep"


def test_value_count_limit():
    err = _err("[" + "1," * 100 + "]", max_values=50)
    assert err.code == "manifest_too_large"
    assert _err("Bytes([" + "1," * 100 + "])", max_values=50).code == "manifest_too_large"


# -- interpretation -----------------------------------------------------------------------


def _default_manifest(**kw):
    files = {B.DEFAULT_SOURCE_PATH: B.DEFAULT_SOURCE.encode()}
    return parse_manifest(B.to_hot(B.manifest_data(files, **kw)))


def test_interprets_a_cli_style_manifest():
    m = _default_manifest(ctx_requirements=["openai.api.key", "slack.token"])
    assert m.project_name == "app"
    assert m.engine_version == "2.6.9"
    assert m.hot_std_version == "2.6.9"
    assert m.bundle_id == B.DEFAULT_BUNDLE_ID
    assert [f.path for f in m.files] == [B.DEFAULT_SOURCE_PATH]
    assert m.files[0].hash == B.blake3_hex(B.DEFAULT_SOURCE.encode())
    assert m.files[0].size == len(B.DEFAULT_SOURCE.encode())

    user = [h for h in m.event_handlers if not h.system]
    assert len(user) == 1
    h = user[0]
    assert (h.event_type, h.ns, h.var, h.once) == ("user.signup", "::app::main", "on-signup", False)
    assert (h.file, h.line, h.column) == (B.DEFAULT_SOURCE_PATH, 4, 1)
    assert h.meta == {"on-event": "user.signup", "retry": 2}

    system = {h.event_type: h for h in m.event_handlers if h.system}
    assert set(system) == {"hot:call", "hot:schedule", "hot:schedule:new", "hot:schedule:cancel"}
    assert all(h.once for h in system.values())

    (s,) = m.schedules
    assert (s.cron, s.ns, s.var, s.line) == (
        "every day at 2:00 am",
        "::app::main",
        "nightly-digest",
        13,
    )
    assert m.context_keys == ["openai.api.key", "slack.token"]
    assert m.context_requirements[0].declared_by == "::app::main"


def test_spec_example_manifest():
    # The minimal manifest from the Hot bundle notes, written by hand.
    text = """{
  "hot.bundle.demo": {
    bundle_id: "0196f1c2-7b1e-7a53-9c1e-5d2f8a9b0c11",
    bundle_hash: "abc",
    engine_version: "2.6.9",
    hot_std_version: "2.6.9",
    files: [{path: "hot/src/demo/hi.hot", hash: "def", size: 213}],
    resources: [],
    event_handlers: {
      hot-take: [{fn: "::demo::hi/on-hot-take", meta: {on-event: "hot-take", retry: 2},
                  file: "hot/src/demo/hi.hot", line: 3, column: 1, position: 15}]
    },
    scheduled_functions: {
      "every 1 minute": [{fn: "::demo::hi/spark", meta: {schedule: "every 1 minute"},
                          file: "hot/src/demo/hi.hot", line: 11, column: 1, position: 154}]
    },
    mcp_tools: {}, webhooks: {}, agents: [], workflows: [],
    send_targets: {"::demo::hi/spark": ["hot-take"], "::demo::hi/on-hot-take": ["x"]},
    ctx_requirements: [],
    box_requirements: {},
    created_at: "2026-01-01T00:00:00+00:00"
  }
}"""
    m = parse_manifest(text)
    assert m.project_name == "demo"
    (h,) = m.event_handlers
    assert h.event_type == "hot-take"
    # Statically detected sends are merged into the handler's meta, as Hot's server does.
    assert h.meta == {"on-event": "hot-take", "retry": 2, "sends": ["x"]}
    (s,) = m.schedules
    assert (s.cron, s.var, s.position) == ("every 1 minute", "spark", 154)
    assert m.send_targets["::demo::hi/spark"] == ["hot-take"]


def test_once_and_legacy_ctx_requirements():
    text = """{"hot.bundle.x": {
      event_handlers: {a: [{fn: "::x/h", meta: {on-event: "a", once: true}}]},
      ctx_requirements: ["legacy.key"],
    }}"""
    m = parse_manifest(text)
    assert m.event_handlers[0].once is True
    assert m.event_handlers[0].file is None
    assert m.context_keys == ["legacy.key"]
    assert m.engine_version is None


def test_duplicate_artifacts_are_collapsed():
    item = '{fn: "::x/h", meta: {on-event: "a"}}'
    m = parse_manifest(f'{{"hot.bundle.x": {{event_handlers: {{a: [{item}, {item}]}}}}}}')
    assert len(m.event_handlers) == 1


def test_decimals_in_meta_become_json_numbers():
    text = '{"hot.bundle.x": {event_handlers: {a: [{fn: "::x/h", meta: {w: 1.5, n: 2.0}}]}}}'
    assert parse_manifest(text).event_handlers[0].meta == {"w": 1.5, "n": 2}
    assert to_jsonable({"b": b"\x01", "d": [Decimal("3")]}) == {"b": [1], "d": [3]}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[]", "top level must be a map"),
        ("{other: {}}", "hot.bundle"),
        ('{"hot.bundle.x": []}', "must be a map"),
        ('{"hot.bundle.x": {files: {}}}', "files must be a vector"),
        ('{"hot.bundle.x": {files: [{path: "a"}]}}', "path and a hash"),
        ('{"hot.bundle.x": {event_handlers: []}}', "event_handlers must be a map"),
        ('{"hot.bundle.x": {event_handlers: {a: {}}}}', "must be a vector"),
        ('{"hot.bundle.x": {event_handlers: {a: [1]}}}', "must be a map"),
        ('{"hot.bundle.x": {event_handlers: {a: [{meta: {}}]}}}', "has no fn"),
        ('{"hot.bundle.x": {event_handlers: {a: [{fn: "nope"}]}}}', "::namespace/var"),
        ('{"hot.bundle.x": {event_handlers: {a: [{fn: "::x/h", line: "3"}]}}}', "integer"),
        ('{"hot.bundle.x": {event_handlers: {a: [{fn: "::x/h", meta: 1}]}}}', "meta"),
        ('{"hot.bundle.x": {scheduled_functions: {"@daily": [{fn: "/h"}]}}}', "::namespace"),
        ('{"hot.bundle.x": {ctx_requirements: [1]}}', "ctx_requirements[0]"),
        ('{"hot.bundle.x": {engine_version: 2}}', "engine_version"),
    ],
)
def test_interpretation_errors(text, words):
    with pytest.raises(BundleError) as info:
        interpret_manifest(parse_hot_data(text))
    assert info.value.code == "manifest_invalid"
    assert words in info.value.message


def test_split_fn_uses_the_last_slash():
    assert split_fn("::myapp::users/on-user-created") == ("::myapp::users", "on-user-created")
    assert split_fn("::a/b/c") == ("::a/b", "c")
