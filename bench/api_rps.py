"""Benchmark 1: requests per second of ``GET /v1/projects/{name}`` through the whole stack
(API-key authentication, throttle, DRF, envelope) against a bare Django view returning the same
JSON, served side by side by the same uvicorn process (``bench.bench_settings``).

Also counts the SQL queries of one authenticated request, in process (django.test.Client +
CaptureQueriesContext). Targets: full stack >= 50% of bare; authentication <= 1 indexed query.

    .venv/bin/python bench/api_rps.py                      # SQLite (default)
    .venv/bin/python bench/api_rps.py --db both            # SQLite, then PostgreSQL
    .venv/bin/python bench/api_rps.py --db postgres --postgres-url postgres://postgres@127.0.0.1:5432/postgres

Everything runs on loopback; the data dir, the uvicorn process and any PostgreSQL database are
created for the run and removed at the end.
"""

from __future__ import annotations

import argparse
import json
import re
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
    Server,
    django_setup,
    exit_on_sigterm,
    postgres_database,
    print_machine,
    service_env,
    temp_dir,
)

TARGET_RATIO = 0.5
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def run_wrk(url: str, headers: list[str], connections: int, threads: int, duration: float):
    seconds = f"{max(1, round(duration))}s"  # wrk takes whole seconds
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", seconds, "--latency"]
    for header in headers:
        cmd += ["-H", header]
    out = subprocess.run(
        [*cmd, url], capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    requests = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    latency = re.search(r"Latency\s+(\S+)", out)
    p99 = re.search(r"99%\s+(\S+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": int(requests.group(1)) if requests else 0,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "latency_avg_ms": _wrk_ms(latency.group(1)) if latency else float("nan"),
        "latency_p99_ms": _wrk_ms(p99.group(1)) if p99 else float("nan"),
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
        return run_wrk(url, headers, args.connections, args.threads, duration)
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


def bench_database(args, db_label: str, database_url: str | None) -> dict:
    print(f"\n== {db_label} ==")
    with temp_dir(args.tmp) as data_dir:
        body_path = data_dir / "bare_body.json"
        env = service_env(
            data_dir,
            database_url,
            DJANGO_SETTINGS_MODULE="bench.bench_settings",
            HOT_BENCH_BARE_BODY=str(body_path),
        )
        setup = django_setup(env, "--bare-body", str(body_path), "--count-queries")
        for run in setup["queries"]:
            print(f"  SQL queries, {run['label']}: {run['count']}")
            for sql in run["sql"]:
                print(f"    - {sql[:160]}{'...' if len(sql) > 160 else ''}")
        if "auth_sql" in setup:
            print(f"  authentication query: {setup['auth_sql']}")
            for line in setup["auth_plan"]:
                print(f"    plan: {line}")
        with Server(env, data_dir / "uvicorn.log") as server:
            project = setup["project"]
            full_url = f"{server.url}/v1/projects/{project}"
            bare_url = f"{server.url}/bench/bare/projects/{project}"
            auth = [f"Authorization: Bearer {setup['token']}"]
            check_same_body(server, full_url, bare_url, auth)
            targets = {"bare": (bare_url, []), "full": (full_url, auth)}
            for name, (url, headers) in targets.items():
                load(args, url, headers, args.warmup)  # warm-up, not recorded
                print(f"  warmed up {name}")
            results: dict[str, list[dict]] = {"bare": [], "full": []}
            for round_no in range(1, args.rounds + 1):
                for name, (url, headers) in targets.items():
                    result = load(args, url, headers, args.duration)
                    results[name].append(result)
                    print(
                        f"  round {round_no} {name:4}: {result['rps']:8.1f} rps  "
                        f"avg {result['latency_avg_ms']:.2f} ms  "
                        f"p99 {result['latency_p99_ms']:.2f} ms  "
                        f"non-2xx {result['non_2xx']}  socket errors {result['errors']}"
                    )
            if server.process.poll() is not None:
                raise RuntimeError("uvicorn died during the run")
    bare = statistics.median(r["rps"] for r in results["bare"])
    full = statistics.median(r["rps"] for r in results["full"])
    bad = sum(r["non_2xx"] + r["errors"] for rs in results.values() for r in rs)
    steady = setup["queries"][-1]
    auth_queries = sum("environments_apikey" in sql for sql in steady["sql"])
    return {
        "db": db_label,
        "bare_rps": bare,
        "full_rps": full,
        "ratio": full / bare if bare else 0.0,
        "bad_responses": bad,
        "queries_first": setup["queries"][0]["count"],
        "queries_steady": steady["count"],
        "auth_queries_steady": auth_queries,
    }


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
    args = parser.parse_args()
    args.loadgen = args.loadgen or ("wrk" if shutil.which("wrk") else "httpx")

    exit_on_sigterm()
    print_machine()
    print(
        f"load: {args.loadgen}, {args.connections} connections, {args.warmup:g} s warm-up, "
        f"{args.rounds} x {args.duration:g} s per target (alternating), 1 uvicorn process"
    )
    summaries = []
    if args.db in ("sqlite", "both"):
        summaries.append(bench_database(args, "sqlite", None))
    if args.db in ("postgres", "both"):
        with postgres_database(args.postgres_url) as url:
            summaries.append(bench_database(args, "postgres", url))

    print(
        "\n| db | bare rps | full-stack rps | full/bare | target >= 50% | SQL/request | auth SQL |"
    )
    print("|---|---:|---:|---:|---|---:|---:|")
    for s in summaries:
        met = "met" if s["ratio"] >= TARGET_RATIO else "MISSED"
        print(
            f"| {s['db']} | {s['bare_rps']:.0f} | {s['full_rps']:.0f} | {100 * s['ratio']:.0f}% "
            f"| {met} | {s['queries_steady']} (first: {s['queries_first']}) "
            f"| {s['auth_queries_steady']} |"
        )
    if any(s["bad_responses"] for s in summaries):
        print("WARNING: some responses were not 2xx or hit socket errors; see above")


if __name__ == "__main__":
    main()
