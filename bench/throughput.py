"""Benchmark 7: sustained end-to-end throughput (events published → runs succeeded per second,
trivial handler) against the throughput of an empty Celery task on the same broker and worker,
with 1 and 2 worker processes; and broker messages per run.

Both run on PostgreSQL (a throwaway database) and a Redis server this script starts on a free
port (so its command statistics count only this benchmark's messages). For each worker count
a fresh worker consumes one queue; the client (a child process) first sends ``--tasks`` empty
tasks and waits for the last result, then publishes ``--events`` events through ``POST
/v1/events/batch`` (so publishing is not the bottleneck) and waits until every run has
succeeded. Throughput = items / (last done − first sent). Messages per run = Redis ``LPUSH``
calls during the event phase / runs. Goal: ≥ 25 % of the empty-task throughput, exactly one
message per run.

The web tier is served as in production by default (``--server gunicorn``: the REST API's sync
workers); ``uvicorn`` (one ASGI process, how it was served before) and ``runhot`` (uvicorn in
front of gunicorn) can be measured in the same run. Resident memory is sampled for every web
process that serves the publishes (gunicorn: the arbiter and each sync worker) and their sum.

    .venv/bin/python bench/throughput.py                  # 1 and 2 worker processes
    .venv/bin/python bench/throughput.py --events 3000 --workers 2
    .venv/bin/python bench/throughput.py --events 10000 --workers 2 --server gunicorn uvicorn
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    DEFAULT_POSTGRES_URL,
    SERVER_KINDS,
    Server,
    children_of,
    exit_on_sigterm,
    free_port,
    postgres_database,
    print_machine,
    service_env,
    temp_dir,
)
from bench._services import Worker, events_setup, run_client, wait_until

TARGET_SHARE = 0.25
BATCH = 500


@contextlib.contextmanager
def redis_server(data_dir: Path) -> Iterator[str]:
    """A private ``redis-server`` (nothing saved) on a free port; yields its URL."""
    import redis

    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--logfile", str(data_dir / "redis.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        wait_until(lambda: _ping(client), 10, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _ping(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def web_processes(server) -> dict[str, int]:
    """The web tier's processes by name: uvicorn's one process; gunicorn's arbiter and each
    sync worker (numbered in pid order, so a restarted worker keeps a number); for runhot
    both."""
    found = {}
    for process in (server.process, *server.extra):
        if process.args[1:3] == ["-m", "uvicorn"]:
            found["web uvicorn"] = process.pid
            continue
        found["web gunicorn arbiter"] = process.pid
        for number, pid in enumerate(sorted(children_of(process.pid)), 1):
            found[f"web gunicorn worker {number}"] = pid
    return found


def web_rss_total(roots: list[int]) -> float:
    """RSS (MiB) of the web processes started as ``roots`` and their children (sync workers)."""
    return sum(rss_mib(pid) for root in roots for pid in (root, *children_of(root)))


def memory(server, worker) -> dict:
    """Resident memory (MiB) of each web process and their sum, of the worker's parent and of
    its pool children (their mean)."""
    web = {name: rss_mib(pid) for name, pid in web_processes(server).items()}
    children = children_of(worker.pid)
    found = dict(web)
    if len(web) > 1:
        found[f"web total ({len(web)} processes)"] = sum(web.values())
    found["worker parent"] = rss_mib(worker.pid)
    found["worker children"] = sum(rss_mib(pid) for pid in children) / max(1, len(children))
    return found


class MemorySampler(threading.Thread):
    """``memory()`` every ``interval`` seconds while the events are processed."""

    def __init__(self, server, worker, interval: float = 2.0):
        super().__init__(daemon=True)
        self.server, self.worker, self.interval = server, worker, interval
        self.samples: list[dict] = []
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(self.interval):
            try:
                self.samples.append(memory(self.server, self.worker))
            except (OSError, ValueError):
                return

    def at(self, share: float) -> dict:
        """The sample ``share`` of the way through (0 < share <= 1)."""
        return self.samples[max(0, round(share * len(self.samples)) - 1)]


def succeeded(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM runs_run WHERE status = 'succeeded'").fetchone()[
            0
        ]


def lpush_calls(url: str) -> int:
    import redis

    stats = redis.Redis.from_url(url).info("commandstats")
    return int(stats.get("cmdstat_lpush", {}).get("calls", 0))


# --- the client (child process, service environment) ----------------------------------------


def client_main(args) -> None:
    import django
    import httpx

    django.setup()
    from bench._celery_app import empty
    from runs.models import Run

    # Empty tasks: all sent as fast as the client can, then every result awaited.
    began = time.perf_counter()
    results = [empty.apply_async() for _ in range(args.tasks)]
    for result in results:
        result.get(timeout=300)
    empty_seconds = time.perf_counter() - began

    client = httpx.Client(
        base_url=args.url, headers={"Authorization": f"Bearer {args.token}"}, timeout=120
    )
    messages_before = lpush_calls(args.redis_url)
    web_pids = [int(pid) for pid in args.web_pids.split(",")]
    web_rss = []  # the web processes' RSS (sum) after each batch published
    began = time.perf_counter()
    for start in range(0, args.events, BATCH):
        items = [
            {"event_type": args.event_type, "event_data": {"n": n}}
            for n in range(start, min(args.events, start + BATCH))
        ]
        response = client.post("/v1/events/batch", json={"events": items})
        response.raise_for_status()
        web_rss.append(web_rss_total(web_pids))
    published = time.perf_counter() - began
    wait_until(
        lambda: Run.objects.filter(status="succeeded").count() >= args.events + args.warmup,
        600,
        "the runs",
        interval=0.05,
    )
    hot_seconds = time.perf_counter() - began
    runs = Run.objects.count() - args.warmup
    not_succeeded = Run.objects.exclude(status="succeeded").count()
    messages = lpush_calls(args.redis_url) - messages_before
    print(
        json.dumps(
            {
                "empty_per_s": args.tasks / empty_seconds,
                "hot_per_s": args.events / hot_seconds,
                "publish_seconds": published,
                "runs": runs,
                "not_succeeded": not_succeeded,
                "messages": messages,
                "web_rss_half": web_rss[len(web_rss) // 2 - 1],
                "web_rss_published": web_rss[-1],
            }
        )
    )


def warm_up(url: str, token: str, event_type: str, count: int) -> None:
    import httpx

    items = [{"event_type": event_type, "event_data": {"warmup": n}} for n in range(count)]
    response = httpx.post(
        f"{url}/v1/events/batch",
        json={"events": items},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    response.raise_for_status()


# --- the orchestration (parent) --------------------------------------------------------------


def measure(args, kind: str, workers: int) -> dict:
    print(f"\n== web tier: {kind}; {workers} worker process(es) ==", flush=True)
    queue = f"hot-bench-{uuid.uuid4().hex[:8]}"
    with (
        temp_dir(args.tmp) as data_dir,
        redis_server(data_dir) as redis_url,
        postgres_database(args.postgres_url) as database_url,
    ):
        env = service_env(
            data_dir,
            database_url,
            HOT_CELERY_QUEUE=queue,
            HOT_BENCH_RESULT_BACKEND=redis_url,
            REDIS_URL=redis_url,
            CELERY_BROKER_URL=redis_url,
        )
        setup = events_setup(env, "--deploy")
        with (
            Server(env, data_dir / f"{kind}.log", kind=kind) as server,
            Worker(env, data_dir / "worker.log", concurrency=workers) as worker,
        ):
            warm_up(server.url, setup["token"], setup["event_type"], args.warmup)
            wait_until(lambda: succeeded(database_url) >= args.warmup, 120, "the warm-up runs")
            time.sleep(1)
            idle = memory(server, worker)
            load_before = Path("/proc/loadavg").read_text().split()[0]
            cmd = [sys.executable, "-m", "bench.throughput", "--client", "--url", server.url]
            cmd += ["--token", setup["token"], "--event-type", setup["event_type"]]
            cmd += ["--events", str(args.events), "--tasks", str(args.tasks)]
            cmd += ["--warmup", str(args.warmup), "--redis-url", redis_url]
            roots = (server.process, *server.extra)
            cmd += ["--web-pids", ",".join(str(process.pid) for process in roots)]
            sampler = MemorySampler(server, worker)
            sampler.start()
            try:
                row = run_client(cmd, env, data_dir, server, worker, timeout=args.timeout)
            finally:
                sampler.done.set()
            after = memory(server, worker)
            row["memory"] = {"idle": idle, "quarter": sampler.at(0.25), "after": after}
            row["load"] = f"{load_before}→{Path('/proc/loadavg').read_text().split()[0]}"
    row["server"] = kind
    row["workers"] = workers
    row["share"] = row["hot_per_s"] / row["empty_per_s"]
    row["messages_per_run"] = row["messages"] / row["runs"]
    print(
        f"  empty task: {row['empty_per_s']:.0f}/s   events → runs succeeded: "
        f"{row['hot_per_s']:.1f}/s ({100 * row['share']:.0f}%)   publish took "
        f"{row['publish_seconds']:.1f} s   messages/run {row['messages_per_run']:.3f}"
        f"   not succeeded: {row['not_succeeded']}   load {row['load']}"
    )
    for name, idle in row["memory"]["idle"].items():
        quarter = row["memory"]["quarter"].get(name, float("nan"))
        after = row["memory"]["after"].get(name, float("nan"))
        print(
            f"  RSS {name}: idle {idle:.1f} MiB, a quarter through {quarter:.1f} MiB, "
            f"after {args.events} runs {after:.1f} MiB"
        )
    print(
        f"  RSS web (all processes) after half the events were published "
        f"{row['web_rss_half']:.1f} MiB, "
        f"after all {row['web_rss_published']:.1f} MiB ({BATCH} per request)"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--server",
        nargs="+",
        choices=SERVER_KINDS,
        default=["gunicorn"],
        help="web tier(s) to serve the publishes with (default: gunicorn, as the REST API "
        "in production); several are measured one after the other",
    )
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--tmp", help="parent of the temporary directory")
    parser.add_argument("--timeout", type=float, default=1200)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--event-type", help=argparse.SUPPRESS)
    parser.add_argument("--redis-url", help=argparse.SUPPRESS)
    parser.add_argument("--web-pids", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args)
        return

    exit_on_sigterm()
    print_machine()
    rows = [measure(args, kind, workers) for kind in args.server for workers in args.workers]
    print(f"\nloadavg after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(
        "\n| Web tier | Worker processes | empty task/s | events → runs succeeded/s | share "
        "| target ≥ 25% | broker messages per run | load |\n|---|---:|---:|---:|---:|---|---:|---|"
    )
    for row in rows:
        verdict = "met" if row["share"] >= TARGET_SHARE else "**missed**"
        print(
            f"| {row['server']} | {row['workers']} | {row['empty_per_s']:.0f} | "
            f"{row['hot_per_s']:.1f} | "
            f"**{100 * row['share']:.0f}%** | {verdict} | {row['messages_per_run']:.3f} | "
            f"{row['load']} |"
        )
    print(
        f"\n| Web tier | Worker processes | process | RSS idle | a quarter through "
        f"| after {args.events} runs | growth from idle | growth from a quarter through |"
        "\n|---|---:|---|---:|---:|---:|---:|---:|"
    )
    for row in rows:
        for name, idle in row["memory"]["idle"].items():
            quarter = row["memory"]["quarter"].get(name, float("nan"))
            after = row["memory"]["after"].get(name, float("nan"))
            print(
                f"| {row['server']} | {row['workers']} | {name} | {idle:.1f} MiB | "
                f"{quarter:.1f} MiB | "
                f"{after:.1f} MiB | {100 * (after - idle) / max(idle, 0.1):+.1f}% | "
                f"{100 * (after - quarter) / max(quarter, 0.1):+.1f}% |"
            )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
    main()
