"""Outbound HTTP from Hot code against a real server on loopback: the egress policy refuses
what it must (also after a redirect) and allows the allowlisted test host; responses, errors,
limits, streaming, run logs and parallel timing."""

import time

import pytest

from hostio.egress import EgressDenied, EgressPolicy
from hostio.http import HttpClient, HttpError, HttpLimits
from hotlang import Limits, execute, prepare
from hotlang.localhost import LocalHooks
from tests.httpserver import LocalHttpServer


@pytest.fixture(scope="module")
def server():
    with LocalHttpServer() as s:
        yield s


class LoggingHooks(LocalHooks):
    def __init__(self, allow):
        super().__init__(allow_hosts=allow)
        self.lines = []

    def log(self, level, message):
        self.lines.append((level, message))


def run(src, server, allow=True, limits=None, fn="main"):
    prepared = prepare({"hot/src/t.hot": "::t ns\n" + src.replace("BASE", server.url)})
    assert prepared.errors == []
    hooks = LoggingHooks([f"127.0.0.1:{server.port}"] if allow else [])
    out = execute(prepared, f"::t/{fn}", [], hooks=hooks, limits=limits or Limits())
    return out, hooks


def test_get_parses_json_and_logs_the_request(server):
    out, hooks = run(
        'main fn () { r ::hot::http/get("BASE/json")\n [r.status, r.body, r.headers.content-type,'
        " ::hot::http/is-ok-response(r)] }\n",
        server,
    )
    assert out.status == "succeeded", out.error
    assert out.result == [
        200,
        {"name": "Ada", "tags": ["x", "y"], "n": 3},
        "application/json",
        True,
    ]
    assert hooks.lines[0][0] == "info"
    assert hooks.lines[0][1].startswith(f"http GET {server.url}/json -> 200 in ")


def test_post_sends_json_and_non_2xx_is_a_response(server):
    out, _ = run(
        'main fn () { p ::hot::http/post("BASE/echo", {a: 1})\n f ::hot::http/get("BASE/fail")\n'
        " [p.status, p.body, f.status, f.body.error, ::hot::http/is-ok-response(f)] }\n",
        server,
    )
    assert out.result == [
        201,
        {"got": {"a": 1}, "type": "application/json"},
        503,
        "unavailable",
        False,
    ]


def test_default_policy_refuses_loopback_as_an_err_value(server):
    out, hooks = run(
        'main fn () { r ::hot::http/get("BASE/json")\n [is-err(r), err-value(r)] }\n',
        server,
        allow=False,
    )
    assert out.status == "succeeded"
    assert out.result[0] is True
    assert "refused" in out.result[1] and "HOT_EGRESS_ALLOW" in out.result[1]
    assert hooks.lines[0][0] == "warn"
    assert not server.seen or all("/json" not in s[1] for s in server.seen[-1:])


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data", "http://10.1.2.3/", "http://127.0.0.2:9/"],
)
def test_a_redirect_to_a_private_address_is_refused(server, target):
    out, _ = run(
        f'main fn () {{ r ::hot::http/get("BASE/redirect?to={target}")\n'
        " [is-err(r), err-value(r)] }\n",
        server,
    )
    assert out.result[0] is True, out.result
    assert "refused" in out.result[1]


def test_redirects_are_followed_and_capped(server):
    out, hooks = run(
        'main fn () { [::hot::http/get("BASE/redirect?to=/json").body.name,'
        ' is-err(::hot::http/get("BASE/loop"))] }\n',
        server,
    )
    assert out.result == ["Ada", True]
    assert "after 1 redirect(s)" in hooks.lines[0][1]


def test_huge_responses_and_slow_servers_fail_cleanly(server):
    client = HttpClient(
        EgressPolicy(allow=["127.0.0.1"]),
        HttpLimits(timeout=0.3, max_response_bytes=1000),
    )
    with pytest.raises(HttpError, match="too large"):
        client.request("GET", f"{server.url}/huge?n=5000")
    with pytest.raises(HttpError, match="timed out"):
        client.request("GET", f"{server.url}/slow?s=2")


def test_the_wait_counts_against_the_run_time_limit(server):
    started = time.monotonic()
    out, _ = run(
        'main fn () { ::hot::http/get("BASE/slow?s=3") }\n', server, limits=Limits(max_seconds=0.5)
    )
    assert out.status == "failed"
    assert "time limit exceeded" in out.error
    assert time.monotonic() - started < 2


def test_streaming_ndjson_and_sse(server):
    out, _ = run(
        'main fn () {\n n ::hot::http/get-stream("BASE/ndjson", "ndjson")\n'
        ' s ::hot::http/get-stream("BASE/sse", "sse")\n'
        " [n.status, ::hot::iter/collect(n.body), ::hot::iter/collect(s.body)] }\n",
        server,
    )
    assert out.status == "succeeded", out.error
    assert out.result == [
        200,
        [{"i": 0}, {"i": 1}, {"i": 2}],
        [
            {"event": "tick", "data": "one", "id": None},
            {"event": "message", "data": "two", "id": "2"},
        ],
    ]


def test_parallel_requests_take_the_time_of_the_slowest(server):
    src = """
main fn () {
  r parallel {
    a ::hot::http/get("BASE/slow?s=0.6").body.slept
    b ::hot::http/get("BASE/slow?s=0.6").body.slept
    c ::hot::http/get("BASE/slow?s=0.6").body.slept
  }
  [r, pmap([1, 2, 3], (i) { ::hot::http/get("BASE/slow?s=0.6").status })]
}
"""
    started = time.monotonic()
    out, _ = run(src, server)
    elapsed = time.monotonic() - started
    assert out.status == "succeeded", out.error
    assert out.result == [{"a": 0.6, "b": 0.6, "c": 0.6}, [200, 200, 200]]
    # sequential would be 3.6 s; two concurrent rounds of 0.6 s with margin for a loaded machine
    assert elapsed < 2.5, elapsed


def test_a_failing_branch_cancels_its_siblings(server):
    src = """
main fn () {
  parallel {
    a ::hot::http/get("BASE/slow?s=3")
    b fail("stop")
  }
}
"""
    started = time.monotonic()
    out, _ = run(src, server)
    assert out.status == "failed" and out.error == "stop"
    assert time.monotonic() - started < 2


def test_policy_resolves_and_checks_every_address():
    policy = EgressPolicy()
    with pytest.raises(EgressDenied):
        policy.resolve("localhost", 80)
    with pytest.raises(EgressDenied):
        policy.check_address("x", "::ffff:10.0.0.1", 80)
    assert EgressPolicy(allow=["127.0.0.0/8"]).resolve("127.0.0.1", 80) == ["127.0.0.1"]
    assert EgressPolicy(allow=["localhost:8080"]).resolve("localhost", 8080)
    with pytest.raises(EgressDenied):
        EgressPolicy(allow=["localhost:8080"]).resolve("localhost", 8081)
