"""Benchmark 1: requests per second of ``GET /v1/projects/{name}`` through the whole stack
(API-key authentication, throttle, DRF, envelope) against a bare Django view returning the same
JSON, both served by the same server (``bench.bench_settings``). Each web tier of ``--servers``
is measured: ``gunicorn`` (the REST API's production server: sync workers, one per core),
``runhot`` (uvicorn on the port forwarding to gunicorn on a Unix socket, as ``manage.py runhot``
runs it), ``uvicorn`` (one ASGI process, the old setup) and ``granian`` (granian's WSGI mode,
for comparison: a dev dependency, not what the service runs). All servers run at once and the
rounds alternate over every server and target, so load from elsewhere hits all alike.

Each measured run also reads the CPU time the server's processes (and PostgreSQL's and Redis's)
spent, per request: steadier than requests per second on a shared VM, and it says where the
time goes. Also counts the SQL queries of one authenticated request, in process
(django.test.Client + CaptureQueriesContext). Targets: full stack >= 50% of bare;
authentication <= 1 indexed query (none once cached, with Redis).

    .venv/bin/python bench/api_rps.py --db postgres --redis-url redis://127.0.0.1:6379/14
    .venv/bin/python bench/api_rps.py --db sqlite --servers gunicorn,runhot,uvicorn
    .venv/bin/python bench/api_rps.py --db postgres --redis-url redis://127.0.0.1:6379/14 \
        --servers gunicorn,granian

Everything runs on loopback; the data dir, the server processes and any PostgreSQL database are
created for the run and removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench._common import (
    DEFAULT_POSTGRES_URL,
    REPO,
    SERVER_KINDS,
    Server,
    bare_view_env,
    children_of,
    cpu_seconds_of,
    data_service_pids,
    django_setup,
    exit_on_sigterm,
    loadavg,
    postgres_database,
    print_machine,
    run_wrk,
    temp_dir,
)

TARGET_RATIO = 0.5
# "<server>-<variant>" runs the same server with other settings, for an A/B in one run.
VARIANTS = {
    "nocache": {"HOT_CREDENTIAL_CACHE_SECONDS": "0"},  # authentication by query every time
    "w1": {"HOT_WEB_WORKERS": "1"},
    "w4": {"HOT_WEB_WORKERS": "4"},
    "nogc": {"HOT_WEB_GC_BETWEEN_REQUESTS": "0"},  # no collection between requests
}


def run_httpx(url: str, headers: list[str], connections: int, duration: float):
    cmd = [sys.executable, "-m", "bench._loadgen", url, "--connections", str(connections)]
    cmd += ["--duration", str(duration)]
    for header in headers:
        cmd += ["--header", header]
    out = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, timeout=duration + 60, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def load(args, url: str, headers: list[str], duration: float) -> dict:
    if args.loadgen == "wrk":
        return run_wrk(url, headers, args.connections, duration, threads=args.threads)
    return run_httpx(url, headers, args.connections, duration)


def check_same_body(server: Server, full_url: str, bare_url: str, auth: list[str]) -> None:
    headers = dict(h.split(": ", 1) for h in auth)
    full = httpx.get(full_url, headers=headers, timeout=10)
    bare = httpx.get(bare_url, timeout=10)
    if full.status_code != 200 or bare.status_code != 200:
        raise RuntimeError(f"smoke check failed: full {full.status_code}, bare {bare.status_code}")
    if full.json()["data"] != bare.json()["data"] or full.json().keys() != bare.json().keys():
        raise RuntimeError("the bare view does not return the API's body")
    print(f"  body: {len(full.content)} bytes (full stack), {len(bare.content)} bytes (bare)")


def bench_database(args, db_label: str, database_url: str | None) -> list[dict]:
    print(f"\n== {db_label} ==")
    with temp_dir(args.tmp) as data_dir, contextlib.ExitStack() as stack:
        env, body_path = bare_view_env(data_dir, database_url, args.redis_url)
        setup = django_setup(env, "--bare-body", str(body_path), "--count-queries")
        print_queries(setup)
        project = setup["project"]
        auth = [f"Authorization: Bearer {setup['token']}"]
        targets: dict[tuple[str, str], tuple[str, list[str]]] = {}
        servers = {}
        for kind in args.servers:
            base, _, variant = kind.partition("-")
            server_env = {**env, **VARIANTS[variant]} if variant else env
            server = stack.enter_context(Server(server_env, data_dir / f"{kind}.log", kind=base))
            servers[kind] = server
            full_url = f"{server.url}/v1/projects/{project}"
            bare_url = f"{server.url}/bench/bare/projects/{project}"
            check_same_body(server, full_url, bare_url, auth)
            targets[(kind, "bare")] = (bare_url, [])
            targets[(kind, "full")] = (full_url, auth)
        results = measure(args, targets, servers)
        for kind, server in servers.items():
            if not server.alive():
                raise RuntimeError(f"{kind} died during the run")
    return summarize(args, db_label, setup, results)


def print_queries(setup: dict) -> None:
    for run in setup["queries"]:
        print(f"  SQL queries, {run['label']}: {run['count']}")
        for sql in run["sql"]:
            print(f"    - {sql[:160]}{'...' if len(sql) > 160 else ''}")
    if "auth_sql" in setup:
        print(f"  authentication query: {setup['auth_sql']}")
        for line in setup["auth_plan"]:
            print(f"    plan: {line}")


def server_pids(server: Server) -> list[int]:
    roots = [server.process.pid, *(process.pid for process in server.extra)]
    return [pid for root in roots for pid in (root, *children_of(root))]


def measured_load(args, url: str, headers: list[str], server: Server) -> dict:
    """One measured run, with the CPU per request of the server and of the data services."""
    web, services = server_pids(server), data_service_pids()
    before = cpu_seconds_of(web), cpu_seconds_of(services)
    result = load(args, url, headers, args.duration)
    requests = result.get("requests") or result["rps"] * args.duration
    result["web_cpu_us"] = 1e6 * (cpu_seconds_of(web) - before[0]) / requests
    result["services_cpu_us"] = 1e6 * (cpu_seconds_of(services) - before[1]) / requests
    return result


def measure(args, targets: dict, servers: dict) -> dict:
    """Warm every target up, then ``args.rounds`` rounds over all of them, alternating."""
    for url, headers in targets.values():
        load(args, url, headers, args.warmup)  # warm-up, not recorded
    print(f"  warmed up; loadavg {loadavg()}")
    results: dict[tuple[str, str], list[dict]] = {key: [] for key in targets}
    for round_no in range(1, args.rounds + 1):
        # Alternate the order too, so no target always runs first.
        order = list(targets.items())
        for (kind, name), (url, headers) in order if round_no % 2 else order[::-1]:
            result = measured_load(args, url, headers, servers[kind])
            results[(kind, name)].append(result)
            print(
                f"  round {round_no} {kind:8} {name:4}: {result['rps']:8.1f} rps  "
                f"CPU/request {result['web_cpu_us']:.0f} µs web "
                f"+ {result['services_cpu_us']:.0f} µs PostgreSQL and Redis  "
                f"avg {result['latency_avg_ms']:.2f} ms  "
                f"p99 {result['latency_p99_ms']:.2f} ms  "
                f"non-2xx {result['non_2xx']}  socket errors {result['errors']}  "
                f"load {loadavg()}",
                flush=True,
            )
    return results


def summarize(args, db_label: str, setup: dict, results: dict) -> list[dict]:
    steady = setup["queries"][-1]
    auth_queries = sum("environments_apikey" in sql for sql in steady["sql"])
    summaries = []
    for kind in args.servers:
        bare, full = results[(kind, "bare")], results[(kind, "full")]
        ratios = [f["rps"] / b["rps"] for b, f in zip(bare, full, strict=True) if b["rps"]]
        bare_cpu = statistics.median(r["web_cpu_us"] + r["services_cpu_us"] for r in bare)
        full_cpu = statistics.median(r["web_cpu_us"] + r["services_cpu_us"] for r in full)
        summaries.append(
            {
                "db": db_label,
                "server": kind,
                "bare_rps": statistics.median(r["rps"] for r in bare),
                "full_rps": statistics.median(r["rps"] for r in full),
                "bare_p99": statistics.median(r["latency_p99_ms"] for r in bare),
                "full_p99": statistics.median(r["latency_p99_ms"] for r in full),
                "ratio": statistics.median(ratios) if ratios else 0.0,
                "ratio_range": (min(ratios), max(ratios)) if ratios else (0.0, 0.0),
                "bare_web_cpu": statistics.median(r["web_cpu_us"] for r in bare),
                "full_web_cpu": statistics.median(r["web_cpu_us"] for r in full),
                "full_services_cpu": statistics.median(r["services_cpu_us"] for r in full),
                "cpu_ratio": bare_cpu / full_cpu if full_cpu else 0.0,
                "bad_responses": sum(r["non_2xx"] + r["errors"] for r in bare + full),
                "queries_first": setup["queries"][0]["count"],
                "queries_steady": steady["count"],
                "auth_queries_steady": auth_queries,
            }
        )
    return summaries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="server to use")
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per target")
    parser.add_argument("--rounds", type=int, default=3, help="bare/full alternations")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--loadgen", choices=["wrk", "httpx"], default=None)
    parser.add_argument("--tmp", default=None, help="parent of the temporary data dir")
    parser.add_argument(
        "--servers",
        default="gunicorn,runhot",
        help=f"comma-separated web tiers to measure, of {', '.join(SERVER_KINDS)}; "
        f"'<kind>-<variant>' the same with other settings, variants: {', '.join(VARIANTS)}",
    )
    parser.add_argument("--redis-url", default=None, help="Redis for the throttle and the cache")
    args = parser.parse_args()
    args.servers = [kind.strip() for kind in args.servers.split(",") if kind.strip()]
    allowed = {*SERVER_KINDS, *(f"{k}-{v}" for k in SERVER_KINDS for v in VARIANTS)}
    if unknown := set(args.servers) - allowed:
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    args.loadgen = args.loadgen or ("wrk" if shutil.which("wrk") else "httpx")

    exit_on_sigterm()
    print_machine()
    print(
        f"load: {args.loadgen}, {args.connections} connections, {args.warmup:g} s warm-up, "
        f"{args.rounds} x {args.duration:g} s per target (alternating), servers: "
        f"{', '.join(args.servers)}; Redis: {'yes' if args.redis_url else 'no'}"
    )
    summaries = []
    if args.db in ("sqlite", "both"):
        summaries.extend(bench_database(args, "sqlite", None))
    if args.db in ("postgres", "both"):
        with postgres_database(args.postgres_url) as url:
            summaries.extend(bench_database(args, "postgres", url))

    print(f"\nloadavg after: {loadavg()}")
    print(
        "\n| db | server | bare rps (p99) | full-stack rps (p99) | full/bare (range) "
        "| target >= 50% | CPU/request bare | full: web + PostgreSQL, Redis | bare/full by CPU "
        "| SQL/request | auth SQL |"
    )
    print("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for s in summaries:
        met = "met" if s["ratio"] >= TARGET_RATIO else "MISSED"
        low, high = s["ratio_range"]
        print(
            f"| {s['db']} | {s['server']} | {s['bare_rps']:.0f} ({s['bare_p99']:.0f} ms) "
            f"| {s['full_rps']:.0f} ({s['full_p99']:.0f} ms) "
            f"| **{100 * s['ratio']:.0f}%** ({100 * low:.0f}–{100 * high:.0f}%) | {met} "
            f"| {s['bare_web_cpu']:.0f} µs "
            f"| {s['full_web_cpu']:.0f} + {s['full_services_cpu']:.0f} µs "
            f"| {100 * s['cpu_ratio']:.0f}% "
            f"| {s['queries_steady']} (first: {s['queries_first']}) "
            f"| {s['auth_queries_steady']} |"
        )
    if any(s["bad_responses"] for s in summaries):
        print("WARNING: some responses were not 2xx or hit socket errors; see above")


if __name__ == "__main__":
    main()
