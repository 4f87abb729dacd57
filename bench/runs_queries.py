"""Benchmark (d): ``GET /v1/runs`` with a selective filter (``status=failed&time_range=P7D``),
with none, and with a broad one (``status=succeeded&time_range=P30D``, ~90% of the table), and
``GET /v1/runs/stats``, through HTTP with 1,000,000 runs of one environment in PostgreSQL.

The runs are bulk-inserted with one ``INSERT ... SELECT generate_series`` (time-ordered UUIDv7
ids, ``created_at`` uniform over the last 30 days, ~90% succeeded, 8% failed, 1.5% cancelled,
``running``/``queued`` only in the last 10 minutes, results and errors filled as the service
writes them, spread over 1,000 streams), then the ``RunCounter`` rows are written from the
aggregated counts, consistent with the table, and the table is analyzed. Both requests are
measured alternately, sequentially, over one keep-alive connection; then the SQL of each
request is captured in process and ``EXPLAIN (ANALYZE, BUFFERS)`` is printed for the run
queries.

    .venv/bin/python bench/runs_queries.py
    # options: --runs 1000000 --requests 200 --postgres-url postgres://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    DEFAULT_POSTGRES_URL,
    Server,
    exit_on_sigterm,
    postgres_database,
    print_machine,
    python_json,
    service_env,
    temp_dir,
)
from bench._services import events_setup, percentile

TARGETS_MS = {"list": 50.0, "list_all": 50.0, "list_broad": 50.0, "stats": 10.0}
PATHS = {
    "list": "/v1/runs?status=failed&time_range=P7D",
    # Broad filters: the list's cost grows with the matches (its total is an exact count).
    "list_all": "/v1/runs",
    "list_broad": "/v1/runs?status=succeeded&time_range=P30D",
    "stats": "/v1/runs/stats",
    # Reference, no target: the cheapest authenticated request (one indexed project lookup).
    "project": "/v1/projects/bench-project",
}

INSERT_RUNS = """
INSERT INTO runs_run (
    id, environment_id, project_id, build_id, stream_id, event_id, origin_run_id, route_key,
    run_type, status, function, args, result, error, created_at, start_time, stop_time,
    duration_ms, enqueued_at, lease_expires_at, worker, cancel_requested)
SELECT
    (lpad(to_hex((extract(epoch FROM t.created_at) * 1000)::bigint), 12, '0')
        || '7' || substr(t.h, 1, 3) || '8' || substr(t.h, 4, 15))::uuid,
    %(env)s, %(project)s, NULL, t.stream_id, NULL, NULL, 'handler:bench',
    'event', t.status, '::bench::main/ping',
    '[{"type": "bench.ping", "data": {"n": 1}}]'::jsonb,
    CASE t.status
        WHEN 'succeeded' THEN '{"ok": true}'::jsonb
        WHEN 'failed' THEN '{"$type": "::hot::run/Failure",
                             "$val": {"msg": "boom", "err": null}}'::jsonb
        WHEN 'cancelled' THEN '{"$type": "::hot::run/Failure",
                                "$val": {"msg": "Cancelled", "err": null}}'::jsonb
    END,
    CASE t.status WHEN 'failed' THEN 'boom' WHEN 'cancelled' THEN 'Cancelled' ELSE '' END,
    t.created_at,
    CASE WHEN t.status = 'queued' THEN NULL ELSE t.created_at + interval '20 ms' END,
    CASE WHEN t.status IN ('queued', 'running') THEN NULL
         ELSE t.created_at + interval '20 ms' + t.duration * interval '1 ms' END,
    CASE WHEN t.status IN ('queued', 'running') THEN NULL ELSE t.duration END,
    t.created_at + interval '5 ms',
    CASE WHEN t.status = 'running' THEN now() + interval '30 s' END,
    CASE WHEN t.status = 'running' THEN 'bench:1' ELSE '' END,
    false
FROM (
    SELECT g,
           md5(g::text) AS h,
           c.created_at,
           s.ids[1 + g %% array_length(s.ids, 1)] AS stream_id,
           (5 + 200 * random() ^ 3)::bigint AS duration,
           CASE
               WHEN c.created_at > now() - interval '10 minutes' AND r < 0.3 THEN 'running'
               WHEN c.created_at > now() - interval '10 minutes' AND r < 0.5 THEN 'queued'
               WHEN r < 0.08 THEN 'failed'
               WHEN r < 0.095 THEN 'cancelled'
               ELSE 'succeeded'
           END AS status
    FROM generate_series(1, %(runs)s) AS g
    CROSS JOIN LATERAL (
        SELECT now() - random() * interval '30 days' + (g * 0) * interval '1 s' AS created_at,
               random() + (g * 0) AS r
    ) AS c(created_at, r)
    CROSS JOIN (
        SELECT array_agg(id) AS ids FROM events_stream WHERE environment_id = %(env)s
    ) AS s
) AS t
"""

INSERT_STREAMS = """
INSERT INTO events_stream (id, environment_id, created_at)
SELECT gen_random_uuid(), %(env)s, now() - interval '30 days' FROM generate_series(1, %(n)s)
"""

INSERT_COUNTERS = """
INSERT INTO runs_runcounter (environment_id, status, slot, count)
SELECT %(env)s, status, 0, count(*) FROM runs_run WHERE environment_id = %(env)s GROUP BY status
"""


def populate(database_url: str, env_id: str, project_id: str, runs: int) -> dict:
    import psycopg

    timings = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        params = {"env": env_id, "project": project_id, "runs": runs, "n": 1000}
        began = time.perf_counter()
        conn.execute(INSERT_STREAMS, params)
        conn.execute(INSERT_RUNS, params)
        timings["insert_s"] = time.perf_counter() - began
        conn.execute("DELETE FROM runs_runcounter WHERE environment_id = %(env)s", params)
        conn.execute(INSERT_COUNTERS, params)
        began = time.perf_counter()
        conn.execute("VACUUM ANALYZE runs_run")
        timings["vacuum_analyze_s"] = time.perf_counter() - began
        rows = conn.execute(
            "SELECT status, count(*) FROM runs_run GROUP BY status ORDER BY 2 DESC"
        ).fetchall()
        timings["by_status"] = dict(rows)
        timings["failed_7d"] = conn.execute(
            "SELECT count(*) FROM runs_run WHERE status = 'failed' "
            "AND created_at >= now() - interval '7 days'"
        ).fetchone()[0]
        timings["table_mb"] = conn.execute(
            "SELECT pg_total_relation_size('runs_run') / 1048576.0"
        ).fetchone()[0]
    return timings


def measure(url: str, token: str, requests: int, warmup: int) -> dict:
    import httpx

    results: dict[str, list[float]] = {name: [] for name in PATHS}
    bodies = {}
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        for name, path in PATHS.items():
            for _ in range(warmup):
                response = client.get(path)
                response.raise_for_status()
            bodies[name] = response.json()
        for _ in range(requests):
            for name, path in PATHS.items():
                began = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - began
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
                results[name].append(1000 * elapsed)
    return {"latencies": results, "bodies": bodies}


# --- in-process SQL capture and EXPLAIN (child process, service environment) ----------------


def explain_main(token: str) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    report = {}
    for name, path in PATHS.items():
        client.get(path)  # warm
        with CaptureQueriesContext(connection) as ctx:
            began = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - began
        assert response.status_code == 200, response.content
        queries = []
        for query in ctx.captured_queries:
            item = {"sql": query["sql"], "ms": 1000 * float(query["time"])}
            if "runs_run" in query["sql"] and query["sql"].startswith("SELECT"):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                    item["plan"] = [row[0] for row in cursor.fetchall()]
            queries.append(item)
        report[name] = {"in_process_ms": 1000 * elapsed, "queries": queries}
    print(json.dumps(report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--tmp", help="parent of the temporary directory")
    parser.add_argument("--explain", help=argparse.SUPPRESS)  # internal: token
    args = parser.parse_args()
    if args.explain:
        explain_main(args.explain)
        return
    exit_on_sigterm()
    print_machine()
    with temp_dir(args.tmp) as data_dir, postgres_database(args.postgres_url) as database_url:
        env = service_env(data_dir, database_url)
        setup = events_setup(env)
        print(f"inserting {args.runs:,} runs...", flush=True)
        facts = populate(database_url, setup["env_id"], setup["project_id"], args.runs)
        print(
            f"  inserted in {facts['insert_s']:.1f} s, "
            f"VACUUM ANALYZE {facts['vacuum_analyze_s']:.1f} s, "
            f"table + indexes {facts['table_mb']:.0f} MiB\n  by status: {facts['by_status']}"
            f"\n  failed in the last 7 days: {facts['failed_7d']:,}",
            flush=True,
        )
        with Server(env, data_dir / "server.log", kind="gunicorn") as server:
            data = measure(server.url, setup["token"], args.requests, args.warmup)
        report = python_json(
            ["-m", "bench.runs_queries", "--explain", setup["token"]], env, "explain"
        )

    stats = data["bodies"]["stats"]["data"]
    listed = data["bodies"]["list"]
    print(f"\n  stats body: {stats}")
    print(f"  list: total {listed['pagination']['total']:,}, {len(listed['data'])} rows on page")
    if stats["total_runs"] != args.runs or stats["failed"] != facts["by_status"].get("failed"):
        print("  WARNING: stats do not match the table")
    for name, item in report.items():
        print(f"\n  -- {PATHS[name]}: {item['in_process_ms']:.1f} ms in process (Django Client)")
        for query in item["queries"]:
            print(f"     {query['ms']:7.2f} ms  {query['sql'][:300]}")
            for line in query.get("plan", []):
                print(f"              {line}")
    print(f"\nloadavg after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print("\n| Request | p50 | p90 | p99 | mean | target p50 | met |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, values in data["latencies"].items():
        p50 = percentile(values, 50)
        if name in TARGETS_MS:
            target = f"≤ {TARGETS_MS[name]:.0f} ms"
            verdict = "met" if p50 <= TARGETS_MS[name] else "**missed**"
        else:
            target, verdict = "(reference)", ""
        print(
            f"| `GET {PATHS[name]}` | {p50:.1f} ms | {percentile(values, 90):.1f} ms | "
            f"{percentile(values, 99):.1f} ms | {statistics.fmean(values):.1f} ms | "
            f"{target} | {verdict} |"
        )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
    main()
