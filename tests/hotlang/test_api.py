import threading
from datetime import datetime

from hotlang import Hooks, LimitExceeded, Limits, execute, prepare
from hotlang.jsonmap import from_json, to_json

HANDLERS = """::demo::hi ns

on-hot-take
meta {on-event: "hot-take", retry: 2}
fn (event) {
  n event.data.num
  label if(is-zero(mod(n, 2)), "even", "odd")
  key ::hot::ctx/get("api.key", "none")
  {num: n, label: label, key: key}
}

spark
meta {schedule: "every 1 minute"}
fn (event) {
  send("hot-take", {num: 4})
}

boot meta {on-event: "boot", once: true} fn (e) { ::hot::stream/data({step: 1}) }

aliased meta {on-event: "alias-event"} ::demo::hi/on-hot-take

fetch fn () { ::hot::ws/connect("wss://example.com") }
uses-fetch fn () { fetch() }
"""


class RecordingHooks(Hooks):
    def __init__(self, ctx=None):
        self.ctx = ctx or {}
        self.sent = []
        self.streamed = []
        self.vars = []

    def ctx_get(self, key):
        return self.ctx.get(key)

    def send(self, event_type, data):
        self.sent.append((event_type, data))

    def stream_data(self, data_type, payload):
        self.streamed.append((data_type, payload))

    def on_var(self, ns, var, value_json, start, stop):
        self.vars.append((ns, var, value_json))


def prepared():
    return prepare({"hot/src/demo/hi.hot": HANDLERS})


def test_functions_lists_every_function_and_alias():
    p = prepared()
    assert p.errors == []
    assert "::demo::hi/on-hot-take" in p.functions and "::demo::hi/spark" in p.functions
    # handler discovery is the platform's (manifest or bundle scan), not the interpreter's
    assert not hasattr(p, "event_handlers") and not hasattr(p, "schedules")


def test_unsupported_features_are_reported_transitively():
    p = prepared()
    assert p.unsupported["::demo::hi/fetch"] == ["::hot::ws/connect"]
    assert p.unsupported["::demo::hi/uses-fetch"] == ["::hot::ws/connect"]
    assert "::demo::hi/on-hot-take" not in p.unsupported


def test_unsupported_function_fails_the_run_clearly():
    out = execute(prepared(), "::demo::hi/fetch")
    assert out.status == "failed"
    assert "::hot::ws/connect is not supported" in out.error


def test_event_handler_run_with_hooks_and_captured_variables():
    hooks = RecordingHooks({"api.key": "k-1"})
    out = execute(
        prepared(),
        "::demo::hi/on-hot-take",
        [{"type": "hot-take", "data": {"num": 3}}],
        hooks=hooks,
    )
    assert out.status == "succeeded"
    assert out.result == {"num": 3, "label": "odd", "key": "k-1"}
    assert [v["var"] for v in out.variables] == ["n", "label", "key"]
    first = out.variables[0]
    assert first["ns"] == "::demo::hi" and first["value"] == 3
    assert isinstance(first["start_time"], datetime) and first["start_time"].tzinfo is not None
    assert first["stop_time"] >= first["start_time"]
    assert hooks.vars[1] == ("::demo::hi", "label", "odd")


def test_send_and_stream_hooks():
    hooks = RecordingHooks()
    out = execute(prepared(), "::demo::hi/spark", [{"type": "hot:schedule"}], hooks=hooks)
    assert out.status == "succeeded"
    assert hooks.sent == [("hot-take", {"num": 4})]
    assert out.result["event"]["type"] == "hot-take"
    execute(prepared(), "::demo::hi/boot", [{"type": "boot", "data": None}], hooks=hooks)
    assert hooks.streamed == [("data", {"step": 1})]


def loop_program():
    return prepare(
        {
            "l.hot": "::l ns\nspin fn (n) { spin(add(n, 1)) }\n"
            "deep fn (n) { add(1, deep(add(n, 1))) }\n"
            'big fn (n) { map(range(n), (i) { "xxxxxxxxxx" }) }\n'
        }
    )


def test_step_limit_ends_an_endless_tail_loop():
    out = execute(loop_program(), "::l/spin", [0], limits=Limits(max_steps=50_000))
    assert out.status == "failed"
    assert out.error == "step limit exceeded (50000 steps)"
    assert out.result["$val"]["msg"] == out.error


def test_time_limit():
    out = execute(loop_program(), "::l/spin", [0], limits=Limits(max_steps=None, max_seconds=0.2))
    assert out.status == "failed" and out.error.startswith("time limit exceeded")


def test_runaway_recursion_never_crashes_python():
    out = execute(loop_program(), "::l/deep", [0], limits=Limits(max_depth=100_000))
    assert out.status == "failed"
    assert "recursion depth limit exceeded" in out.error
    out = execute(loop_program(), "::l/deep", [0])
    assert out.status == "failed" and "recursion depth limit exceeded (2000 calls)" in out.error


def test_value_size_limit():
    out = execute(loop_program(), "::l/big", [10_000], limits=Limits(max_value_bytes=1000))
    assert out.status == "failed" and "value size limit exceeded" in out.error


def test_cancellation():
    class Cancelling(Hooks):
        def is_cancelled(self):
            return True

    out = execute(loop_program(), "::l/spin", [0], hooks=Cancelling())
    assert out.status == "cancelled"


def test_limit_exceeded_is_exported():
    assert issubclass(LimitExceeded, Exception)


def test_unknown_function_fails():
    out = execute(prepared(), "::demo::hi/missing")
    assert out.status == "failed" and "unknown function" in out.error


def test_json_mapping_round_trip():
    from decimal import Decimal

    hot = from_json(
        {"a": 1.5, "b": [1, "x", None, True], "c": {"$type": "::hot::type/Bytes", "$val": [1, 2]}}
    )
    assert hot["a"] == Decimal("1.5") and hot["c"] == b"\x01\x02"
    assert to_json(hot) == {
        "a": 1.5,
        "b": [1, "x", None, True],
        "c": {"$type": "::hot::type/Bytes", "$val": [1, 2]},
    }
    long_dec = Decimal("0.1234567890123456789012345")
    assert to_json(long_dec) == {"$type": "::hot::type/Dec", "$val": "0.1234567890123456789012345"}


def test_typed_results_map_to_type_and_val():
    p = prepare(
        {
            "t.hot": "::t ns\nDir enum { Up }\nUser type {name: Str}\n"
            'a fn () { [Dir.Up, User({name: "x"}), err("e")] }\n'
        }
    )
    out = execute(p, "::t/a")
    assert out.result == [
        {"$type": "::t/Dir.Up", "$val": None},
        {"$type": "::t/User", "$val": {"name": "x"}},
        {"$type": "::hot::type/Result.Err", "$val": "e"},
    ]


def test_returning_err_fails_the_run():
    p = prepare({"t.hot": '::t ns\na fn () { err({message: "bad input"}) }\n'})
    out = execute(p, "::t/a")
    assert out.status == "failed" and out.error == "bad input"
    assert out.result["$val"]["err"] == {"message": "bad input"}


def test_executions_from_several_threads_are_serialised():
    p = prepare({"t.hot": "::t ns\nsum fn (n) { reduce(range(n), add(%1, %2), 0) }\n"})
    results = []

    def worker():
        results.append(execute(p, "::t/sum", [1000]).result)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [499500] * 4


def test_namespace_state_is_fresh_for_each_execution():
    p = prepare({"t.hot": "::t ns\nseen []\nseen[] 1\nget-seen fn () { seen }\n"})
    assert execute(p, "::t/get-seen").result == [1]
    assert execute(p, "::t/get-seen").result == [1]


def test_runaway_string_and_collection_growth_is_stopped():
    p = prepare(
        {
            "g.hot": "::g ns\n"
            "grow fn (s) { grow(`${s}${s}`) }\n"
            "grow-vec fn (xs) { grow-vec(concat(xs, xs)) }\n"
        }
    )
    out = execute(p, "::g/grow", ["ab"])
    assert out.status == "failed" and "string size limit exceeded" in out.error
    out = execute(p, "::g/grow-vec", [[1, 2]])
    assert out.status == "failed" and "collection size limit exceeded" in out.error
