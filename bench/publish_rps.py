"""Benchmark (b): ``POST /v1/events`` per second on PostgreSQL (Redis broker, as in
production) against a bare Django view inserting the same Stream + Event rows, served side by
side by the same uvicorn process (``bench.events_bench_settings``).

No worker runs: every publish still commits the event and its stream-log entry, then sends the
routing message (``route_event.delay``) to Redis and a stream wake-up; the messages just queue
(the Redis database is flushed at the end).

    .venv/bin/python bench/publish_rps.py
    # options: --duration 10 --rounds 3 --warmup 3 --connections 16
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench._common import (
    DEFAULT_POSTGRES_URL,
    Server,
    exit_on_sigterm,
    postgres_database,
    print_machine,
    service_env,
    temp_dir,
)
from bench._services import DEFAULT_REDIS_URL, events_setup, redis_db
from bench.api_rps import _wrk_ms

TARGET_RATIO = 0.5
BODY = '{"event_type":"bench.ping","event_data":{"user":"ada@example.com","n":1}}'
LUA = f"""wrk.method = "POST"
wrk.body = '{BODY}'
wrk.headers["Content-Type"] = "application/json"
"""


def run_wrk(url: str, headers: list[str], script: Path, connections: int, duration: float):
    import re

    cmd = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{max(1, round(duration))}s"]
    cmd += ["--latency", "-s", str(script)]
    for header in headers:
        cmd += ["-H", header]
    out = subprocess.run(
        [*cmd, url], capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    latency = re.search(r"Latency\s+(\S+)", out)
    # The latency distribution's line: a bare "99%" alone on its line ("71.99%" in the
    # thread-stats table before it is a standard-deviation column, not the percentile).
    p99 = re.search(r"^\s+99%\s+(\S+)\s*$", out, re.MULTILINE)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "latency_avg_ms": _wrk_ms(latency.group(1)) if latency else float("nan"),
        "latency_p99_ms": _wrk_ms(p99.group(1)) if p99 else float("nan"),
    }


def count_rows(database_url: str) -> dict:
    import psycopg

    with psycopg.connect(database_url) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("events_event", "events_stream", "events_streamentry")
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--tmp", help="parent of the temporary directory")
    parser.add_argument("--py-spy", help="path of py-spy: profile one extra full round")
    parser.add_argument("--profile-out", help="directory for the py-spy profile (default .)")
    args = parser.parse_args()
    exit_on_sigterm()
    print_machine()

    with (
        temp_dir(args.tmp) as data_dir,
        redis_db(args.redis_url) as redis_url,
        postgres_database(args.postgres_url) as database_url,
    ):
        env = service_env(
            data_dir,
            database_url,
            REDIS_URL=redis_url,
            CELERY_BROKER_URL=redis_url,
            DJANGO_SETTINGS_MODULE="bench.events_bench_settings",
        )
        setup = events_setup(env)
        env["HOT_BENCH_ENV_ID"] = setup["env_id"]
        script = data_dir / "post.lua"
        script.write_text(LUA)
        with Server(env, data_dir / "uvicorn.log") as server:
            auth = [f"Authorization: Bearer {setup['token']}"]
            targets = {
                "bare": (f"{server.url}/bench/bare/events", []),
                "full": (f"{server.url}/v1/events", auth),
            }
            for name, (url, headers) in targets.items():
                response = httpx.post(
                    url,
                    content=BODY,
                    headers=dict(
                        [h.split(": ", 1) for h in headers] + [("Content-Type", "application/json")]
                    ),
                )
                if response.status_code != 201:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:300]}")
                run_wrk(url, headers, script, args.connections, args.warmup)
                print(f"  warmed up {name}", flush=True)
            results: dict[str, list[dict]] = {"bare": [], "full": []}
            for round_no in range(1, args.rounds + 1):
                for name, (url, headers) in targets.items():
                    result = run_wrk(url, headers, script, args.connections, args.duration)
                    results[name].append(result)
                    print(
                        f"  round {round_no} {name:4}: {result['rps']:7.1f} rps  "
                        f"avg {result['latency_avg_ms']:.1f} ms  "
                        f"p99 {result['latency_p99_ms']:.1f} ms  "
                        f"non-2xx {result['non_2xx']}  socket errors {result['errors']}",
                        flush=True,
                    )
            if args.py_spy:  # one more full round, profiled, not counted
                out = Path(args.profile_out or ".").resolve() / f"publish-{server.pid}.txt"
                cmd = [args.py_spy, "record", "--pid", str(server.pid), "--format", "raw"]
                cmd += ["--rate", "200", "--output", str(out), "--nonblocking", "--threads"]
                cmd += ["--duration", str(round(args.duration))]
                spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                run_wrk(*targets["full"], script, args.connections, args.duration)
                spy.wait(timeout=60)
                print(f"  py-spy profile of a full round → {out}")
            if server.process.poll() is not None:
                raise RuntimeError("uvicorn died during the run")
        import redis

        queued = redis.Redis.from_url(redis_url).llen(env.get("HOT_CELERY_QUEUE", "celery"))
        rows = count_rows(database_url)
    print(f"  rows: {rows}; routing messages queued in Redis: {queued}")
    bare = statistics.median(r["rps"] for r in results["bare"])
    full = statistics.median(r["rps"] for r in results["full"])
    bad = sum(r["non_2xx"] + r["errors"] for rs in results.values() for r in rs)
    ratio = full / bare
    print(f"\nloadavg after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print("\n| bare view rps | POST /v1/events rps | full / bare | target ≥ 50% | bad responses |")
    print("|---:|---:|---:|---|---:|")

    def rng(name):
        values = [r["rps"] for r in results[name]]
        return f"{statistics.median(values):.0f} ({min(values):.0f}–{max(values):.0f})"

    verdict = "met" if ratio >= TARGET_RATIO else "**missed**"
    print(f"| {rng('bare')} | {rng('full')} | **{100 * ratio:.0f}%** | {verdict} | {bad} |")


if __name__ == "__main__":
    main()
