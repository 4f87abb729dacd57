"""Benchmark (a): publish → run ``succeeded`` latency of a trivial handler, against the round
trip of an empty Celery task, side by side on the same broker and worker.

The client (a separate process) publishes each event with ``POST
/v1/streams/subscribe-with-event`` (subscribe, then publish, in one request) and stops the clock
when the stream says ``run:stop`` with status ``succeeded``: HTTP publish, commit, routing task,
run task, execution, stream log, wake-up and SSE delivery are all inside. The baseline is
``bench.empty`` (``bench/_celery_app.py``): ``apply_async`` then ``AsyncResult.get`` with a
Redis result backend. Events are sent one at a time; both are measured alternately in blocks.

    .venv/bin/python bench/run_latency.py                 # Redis + PostgreSQL, then fs + SQLite
    .venv/bin/python bench/run_latency.py --config redis  # only Redis broker + PostgreSQL
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    DEFAULT_POSTGRES_URL,
    REPO,
    Server,
    exit_on_sigterm,
    postgres_database,
    print_machine,
    service_env,
    temp_dir,
)
from bench._services import (
    DEFAULT_REDIS_URL,
    Worker,
    events_setup,
    percentile,
    redis_db,
    run_client,
)

TARGET_RATIO = 3.0


# --- the client (child process, service environment) ----------------------------------------


def hot_once(client, event_type: str, n: int) -> tuple[float, float, str]:
    """(latency s, wall-clock receive time, run id) of one publish → run:stop."""
    body = {"event_type": event_type, "event_data": {"n": n}}
    began = time.perf_counter()
    with client.stream("POST", "/v1/streams/subscribe-with-event", json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(f"subscribe-with-event: {response.status_code} {response.read()}")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name in ("run:stop", "run:fail", "run:cancel"):
                done = time.perf_counter()
                wall = time.time()
                run = json.loads(line[6:])["run"]
                if run["status"] != "succeeded":
                    raise RuntimeError(f"run ended {run['status']}: {run}")
                return done - began, wall, run["run_id"]
    raise RuntimeError("stream ended before the run did")


def empty_once(task) -> float:
    began = time.perf_counter()
    task.apply_async().get(timeout=30)
    return time.perf_counter() - began


def breakdown(samples: list[tuple[float, str, float]]) -> dict:
    """Medians of the stages, from the rows' timestamps (ms)."""
    import django

    django.setup()
    from runs.models import Run

    runs = {
        str(r.pk): r
        for r in Run.objects.filter(pk__in=[s[1] for s in samples]).select_related("event")
    }
    stages: dict[str, list[float]] = {
        "request → event committed": [],
        "event → run started (route_event message, routing and claim)": [],
        "started → stopped (execution, finish)": [],
        "stopped → client has run:stop": [],
    }
    for sent, run_id, received in samples:
        run = runs[run_id]
        points = [
            sent,
            run.event.created_at.timestamp(),
            run.start_time.timestamp(),
            run.stop_time.timestamp(),
            received,
        ]
        for values, a, b in zip(stages.values(), points, points[1:], strict=False):
            values.append(1000 * (b - a))
    return {name: statistics.median(values) for name, values in stages.items()}


def client_main(args) -> None:
    import httpx

    from bench._celery_app import empty

    headers = {"Authorization": f"Bearer {args.token}"}
    client = httpx.Client(base_url=args.url, headers=headers, timeout=60)
    for n in range(args.warmup):  # first runs parse the build, open connections...
        hot_once(client, args.event_type, n)
        empty_once(empty)
    hot: list[float] = []
    base: list[float] = []
    samples: list[tuple[float, str, float]] = []
    n = 0
    while len(hot) < args.events:
        for _ in range(min(args.block, args.events - len(hot))):
            sent = time.time()
            latency, received, run_id = hot_once(client, args.event_type, n)
            hot.append(latency)
            samples.append((sent, run_id, received))
            n += 1
        for _ in range(min(args.block, args.events - len(base))):
            base.append(empty_once(empty))
    client.close()
    result = {"hot": hot, "empty": base, "breakdown": breakdown(samples)}
    if args.in_flight > 1:
        result.update(in_flight_main(args, empty))
    print(json.dumps(result))


def in_flight_main(args, empty) -> dict:
    """``--in-flight`` events (and, alternately, empty tasks) kept in flight at once: each
    of that many client threads sends its next one as soon as its last one is done. Blocks of
    ``--block`` items per thread alternate between the two."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    local = threading.local()

    def hot_item(n: int) -> float:
        if not hasattr(local, "client"):
            local.client = httpx.Client(
                base_url=args.url, headers={"Authorization": f"Bearer {args.token}"}, timeout=60
            )
        return hot_once(local.client, args.event_type, n)[0]

    hot: list[float] = []
    base: list[float] = []
    per_block = args.block * args.in_flight
    with ThreadPoolExecutor(max_workers=args.in_flight) as pool:
        n = 1_000_000  # event numbers apart from the one-at-a-time phase
        while len(hot) < args.events or len(base) < args.events:
            count = min(per_block, args.events - len(hot))
            began = time.perf_counter()
            hot.extend(pool.map(hot_item, range(n, n + count)))
            print(
                f"  in-flight block: {count / (time.perf_counter() - began):.1f} runs/s",
                file=sys.stderr,
            )
            n += count
            count = min(per_block, args.events - len(base))
            base.extend(pool.map(lambda _: empty_once(empty), range(count)))
    return {"hot_in_flight": hot, "empty_in_flight": base}


# --- in-process probe: SQL queries and time of each step, without broker hops ----------------


def probe_main(args) -> None:
    """Publish through the API in process, then run the routing task's function directly (it
    claims, executes and finishes the run inline), counting the SQL queries of each step (main
    thread only) and timing it; medians of ``--probes``."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from runs import routing
    from runs.models import Run

    client = Client(HTTP_AUTHORIZATION=f"Bearer {args.token}")
    steps: dict[str, list[tuple[float, int]]] = {
        "publish (POST /v1/events)": [],
        "route_event (route + claim, execute, finish)": [],
    }
    for n in range(args.probes + 1):
        body = {"event_type": args.event_type, "event_data": {"n": n}}
        timings = []
        sql: list[list[str]] = []
        with CaptureQueriesContext(connection) as ctx:
            began = time.perf_counter()
            response = client.post("/v1/events", body, content_type="application/json")
            timings.append((time.perf_counter() - began, len(ctx.captured_queries)))
        sql.append([q["sql"] for q in ctx.captured_queries])
        assert response.status_code == 201, response.content
        event_id = response.json()["data"]["event_id"]
        with CaptureQueriesContext(connection) as ctx:
            began = time.perf_counter()
            (run_id,) = routing.event_route(event_id=event_id, execute_inline=True)
            timings.append((time.perf_counter() - began, len(ctx.captured_queries)))
        sql.append([q["sql"] for q in ctx.captured_queries])
        status = Run.objects.get(pk=run_id).status
        assert status == "succeeded", status
        if n:  # the first round warms caches (prepared program, connections)
            for values, timing in zip(steps.values(), timings, strict=True):
                values.append(timing)
    print(
        json.dumps(
            {
                name: {
                    "ms": 1000 * statistics.median(t for t, _ in values),
                    "queries": statistics.median(q for _, q in values),
                    "sql": statements,
                }
                for (name, values), statements in zip(steps.items(), sql, strict=True)
            }
        )
    )


# --- the orchestration (parent) --------------------------------------------------------------


def bench_config(args, label: str) -> dict:
    print(f"\n== {label} ==", flush=True)
    queue = f"hot-bench-{uuid.uuid4().hex[:8]}"
    with temp_dir(args.tmp) as data_dir, redis_db(args.redis_url) as redis_url:
        extra = {
            "HOT_CELERY_QUEUE": queue,
            "HOT_BENCH_RESULT_BACKEND": redis_url,
            "HOT_SSE_STREAM_SECONDS": "600",
        }
        if label.startswith("redis"):
            extra.update(REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url)
            with postgres_database(args.postgres_url) as database_url:
                return measure(args, label, service_env(data_dir, database_url, **extra), data_dir)
        return measure(args, label, service_env(data_dir, None, **extra), data_dir)


def measure(args, label: str, env: dict[str, str], data_dir: Path) -> dict:
    setup = events_setup(env, "--deploy")
    print(f"  database: {setup['vendor']}, broker: {env.get('CELERY_BROKER_URL', 'filesystem')}")
    with (
        Server(env, data_dir / "uvicorn.log") as server,
        Worker(env, data_dir / "worker.log", concurrency=args.concurrency) as worker,
    ):
        cmd = [sys.executable, "-m", "bench.run_latency", "--client", "--url", server.url]
        cmd += ["--token", setup["token"], "--event-type", setup["event_type"]]
        cmd += ["--events", str(args.events), "--warmup", str(args.warmup)]
        cmd += ["--block", str(args.block), "--in-flight", str(args.in_flight)]
        data = run_client(cmd, env, data_dir, server, worker, timeout=args.timeout)
    cmd = [sys.executable, "-m", "bench.run_latency", "--probe", "--token", setup["token"]]
    cmd += ["--event-type", setup["event_type"], "--probes", str(args.probes)]
    probe = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    if probe.returncode != 0:
        raise RuntimeError(f"probe failed:\n{probe.stderr[-4000:]}")
    probe_data = json.loads(probe.stdout.strip().splitlines()[-1])
    print("  in process, no broker (median of probes):")
    for step, item in probe_data.items():
        print(f"    {step}: {item['ms']:.1f} ms, {item['queries']:.0f} SQL queries (main thread)")
        if args.show_sql:
            for statement in item["sql"]:
                print(f"      - {statement[:150]}")
    row = {"config": label, "probe": probe_data, "in_flight": args.in_flight}
    names = ["hot", "empty"] + (["hot_in_flight", "empty_in_flight"] if args.in_flight > 1 else [])
    for name in names:
        values = [1000 * v for v in data[name]]
        row[f"{name}_n"] = len(values)
        row[f"{name}_p50"] = percentile(values, 50)
        row[f"{name}_p99"] = percentile(values, 99)
        row[f"{name}_mean"] = statistics.fmean(values)
    row["ratio"] = row["hot_p50"] / row["empty_p50"]
    row["breakdown"] = data["breakdown"]
    print(
        f"  publish → succeeded: p50 {row['hot_p50']:.1f} ms  p99 {row['hot_p99']:.1f} ms"
        f"  (n={row['hot_n']})\n  empty task:          p50 {row['empty_p50']:.1f} ms"
        f"  p99 {row['empty_p99']:.1f} ms  (n={row['empty_n']})"
    )
    if args.in_flight > 1:
        row["ratio_in_flight"] = row["hot_in_flight_p50"] / row["empty_in_flight_p50"]
        print(
            f"  {args.in_flight} in flight: publish → succeeded p50 "
            f"{row['hot_in_flight_p50']:.1f} ms  p99 {row['hot_in_flight_p99']:.1f} ms;"
            f"  empty task p50 {row['empty_in_flight_p50']:.1f} ms"
            f"  p99 {row['empty_in_flight_p99']:.1f} ms"
        )
    for stage, ms in data["breakdown"].items():
        print(f"    median {stage}: {ms:.1f} ms")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=["redis", "filesystem", "both"], default="both")
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--block", type=int, default=50, help="alternate every N samples")
    parser.add_argument(
        "--in-flight", type=int, default=16, help="then as many at once (1: skip that phase)"
    )
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--tmp", help="parent of the temporary directory")
    parser.add_argument("--timeout", type=float, default=1200)
    # client mode (internal)
    parser.add_argument("--probes", type=int, default=20, help="in-process probe rounds")
    parser.add_argument("--show-sql", action="store_true", help="print the probe's SQL")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--event-type", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args)
        return
    if args.probe:
        probe_main(args)
        return

    exit_on_sigterm()
    print_machine()
    labels = {
        "redis": ["redis broker + PostgreSQL"],
        "filesystem": ["filesystem broker + SQLite"],
        "both": ["redis broker + PostgreSQL", "filesystem broker + SQLite"],
    }[args.config]
    rows = [bench_config(args, label) for label in labels]
    print(f"\nloadavg after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(
        "\n| Setup | publish → succeeded p50 | p99 | empty task p50 | p99 | p50 ratio | "
        "target ≤ 3× |\n|---|---:|---:|---:|---:|---:|---|"
    )
    for row in rows:
        verdict = "met" if row["ratio"] <= TARGET_RATIO else "**missed**"
        print(
            f"| {row['config']}, one at a time | {row['hot_p50']:.1f} ms | "
            f"{row['hot_p99']:.1f} ms | {row['empty_p50']:.1f} ms | {row['empty_p99']:.1f} ms | "
            f"**{row['ratio']:.2f}×** | {verdict} |"
        )
        if "ratio_in_flight" in row:
            verdict = "met" if row["ratio_in_flight"] <= TARGET_RATIO else "**missed**"
            print(
                f"| {row['config']}, {row['in_flight']} in flight | "
                f"{row['hot_in_flight_p50']:.1f} ms | {row['hot_in_flight_p99']:.1f} ms | "
                f"{row['empty_in_flight_p50']:.1f} ms | {row['empty_in_flight_p99']:.1f} ms | "
                f"**{row['ratio_in_flight']:.2f}×** | {verdict} |"
            )
    print("\n| Stage (median ms) | " + " | ".join(r["config"] for r in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for stage in rows[0]["breakdown"]:
        print(f"| {stage} | " + " | ".join(f"{r['breakdown'][stage]:.1f}" for r in rows) + " |")
    print(
        "\n| In process, no broker (median ms, SQL queries) | "
        + " | ".join(r["config"] for r in rows)
        + " |"
    )
    print("|---|" + "---:|" * len(rows))
    for step in rows[0]["probe"]:
        cells = [
            f"{r['probe'][step]['ms']:.1f} ms, {r['probe'][step]['queries']:.0f} q" for r in rows
        ]
        print(f"| {step} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
    main()
