"""builds.bundle.scan: light discovery of handlers/schedules in sources without a manifest."""

from __future__ import annotations

from builds.bundle.scan import scan_source, scan_sources
from tests import bundles as B


def test_default_program():
    result = scan_source(B.DEFAULT_SOURCE_PATH, B.DEFAULT_SOURCE)
    (h,) = result.event_handlers
    assert (h.event_type, h.fn, h.ns, h.var) == (
        "user.signup",
        "::app::main/on-signup",
        "::app::main",
        "on-signup",
    )
    assert (h.file, h.line, h.column) == (B.DEFAULT_SOURCE_PATH, 4, 1)
    assert h.line == B.line_of(B.DEFAULT_SOURCE, "on-signup")
    (s,) = result.schedules
    assert (s.cron, s.var, s.line) == ("every day at 2:00 am", "nightly-digest", 13)
    assert result.warnings == []


def test_inline_meta_alias_and_both_keys():
    source = """::demo::events ns

user-created-handler meta {on-event: "user:created"} fn (event) {
  event.data
}

tg-handler meta {on-event: "tg:update", once: true} ::lib/handler

daily-report
meta {
    schedule: "every 2 minutes",
    on-event: "demo:daily-report"
}
fn (event) { 1 }
"""
    result = scan_source("hot/src/demo/events.hot", source)
    handlers = {h.var: h for h in result.event_handlers}
    assert set(handlers) == {"user-created-handler", "tg-handler", "daily-report"}
    assert handlers["user-created-handler"].line == 3
    assert handlers["tg-handler"].once is True
    assert handlers["daily-report"].event_type == "demo:daily-report"
    (s,) = result.schedules
    assert (s.var, s.cron, s.line) == ("daily-report", "every 2 minutes", 9)


def test_meta_before_the_var():
    source = """::a::b ns

x 1

meta {on-event: "ping"}
pong fn (event) { event }
"""
    (h,) = scan_source("hot/src/a/b.hot", source).event_handlers
    assert (h.var, h.line) == ("pong", 6)


def test_ignores_comments_strings_docs_and_nested_meta():
    source = '''::docs ns

// meta {on-event: "commented-out"}
/* old-handler
   meta {on-event: "block-commented"} */
helper
meta {doc: """
  Register with meta {on-event: "in-a-doc-string"} on a var.
"""}
fn () {
  inner meta {on-event: "inside-a-body"} fn (e) { e }
  `template meta {on-event: "in-a-template"}`
}

real meta {retry: {on-event: "nested-key"}, on-event: "real-event"} fn (e) { e }
'''
    result = scan_source("hot/src/docs.hot", source)
    assert [(h.var, h.event_type) for h in result.event_handlers] == [("real", "real-event")]


def test_multiple_namespaces_in_one_file():
    source = """::one ns
a meta {on-event: "e1"} fn (e) { e }
::two ns
b meta {schedule: "@hourly"} fn (e) { e }
"""
    result = scan_source("hot/src/x.hot", source)
    assert result.event_handlers[0].fn == "::one/a"
    assert result.schedules[0].fn == "::two/b"


def test_escaped_strings_and_warnings():
    source = """h meta {on-event: "no-ns"} fn (e) { e }
::n ns
q meta {on-event: "quote\\"d"} fn (e) { e }
"""
    result = scan_source("hot/src/w.hot", source)
    assert [h.event_type for h in result.event_handlers] == ['quote"d']
    assert any("ns" in w for w in result.warnings)


def test_scan_sources_orders_by_path():
    result = scan_sources(
        {
            "hot/src/b.hot": '::b ns\nx meta {on-event: "b"} fn (e) { e }\n',
            "hot/src/a.hot": '::a ns\nx meta {on-event: "a"} fn (e) { e }\n',
        }
    )
    assert [h.fn for h in result.event_handlers] == ["::a/x", "::b/x"]
