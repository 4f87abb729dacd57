"""Benchmark (c): 1,000 concurrent SSE subscribers on one web process (one uvicorn process,
PostgreSQL): memory of the web process and publish-to-client latency of every delivery.

A client process opens ``--subscribers`` connections to ``GET /v1/streams/{id}/subscribe`` (one
stream: every entry fans out to every subscriber) with plain asyncio protocols (HTTP/1.1,
chunked; far cheaper per byte than an HTTP library, so the client adds little to the figures).
Once all have their response headers, a publisher process appends ``--entries`` ``stream:data``
entries to the stream log through the service's own ``events.streamlog.append`` (what a run's
stream output does), one every ``--interval`` s, each carrying its wall-clock send time; the
client computes receive time − send time for every delivery. Run with Redis wake-ups
(``REDIS_URL`` set), then, for information, without (the hub polls every 0.1 s).

    .venv/bin/python bench/sse_fanout.py                  # with Redis, then polling
    .venv/bin/python bench/sse_fanout.py --mode redis --subscribers 1000 --entries 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    DEFAULT_POSTGRES_URL,
    REPO,
    Server,
    exit_on_sigterm,
    postgres_database,
    print_machine,
    proc_cpu_seconds,
    proc_status_kib,
    service_env,
    temp_dir,
)
from bench._services import DEFAULT_REDIS_URL, events_setup, percentile, raise_nofile, redis_db

TARGET_RSS_MIB = 300
TARGET_P99_MS = 250
_SEQ = re.compile(rb'"seq":\s*(\d+)')
_SENT = re.compile(rb'"sent":\s*([\d.]+)')


# --- client (separate process) -----------------------------------------------------------


class Subscriber(asyncio.Protocol):
    def __init__(self, request: bytes, results: list, ready: asyncio.Future, expected: int):
        self.request = request
        self.results = results
        self.ready = ready
        self.expected = expected
        self.buffer = b""
        self.headers_seen = False
        self.seen = 0
        self.done = asyncio.get_running_loop().create_future()

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.headers_seen:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            if not head.startswith(b"HTTP/1.1 200"):
                self.ready.set_exception(RuntimeError(head.decode(errors="replace")[:300]))
                return
            self.headers_seen = True
            self.buffer = rest
            self.ready.set_result(None)
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            if line.startswith(b"data: ") and b'"stream:data"' in line:
                sent = float(_SENT.search(line).group(1))
                self.results.append((int(_SEQ.search(line).group(1)), now - sent))
                self.seen += 1
                if self.seen >= self.expected and not self.done.done():
                    self.done.set_result(None)

    def connection_lost(self, exc) -> None:
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(f"connection lost: {exc}"))
        if not self.done.done():
            self.done.set_result(None)


async def client(args) -> None:
    parts = urlsplit(args.url)
    request = (
        f"GET /v1/streams/{args.stream}/subscribe HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {args.token}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    results: list[float] = []
    gate = asyncio.Semaphore(args.open_concurrency)
    protocols: list[Subscriber] = []

    async def open_one() -> None:
        async with gate:
            ready = loop.create_future()
            _, protocol = await loop.create_connection(
                lambda: Subscriber(request, results, ready, args.entries),
                parts.hostname,
                parts.port,
            )
            protocols.append(protocol)
            await ready

    began = time.perf_counter()
    await asyncio.gather(*(open_one() for _ in range(args.subscribers)))
    print(f"READY {len(protocols)} {time.perf_counter() - began:.2f}", flush=True)
    # The parent now runs the publisher; wait for every delivery or the deadline.
    deadline = args.entries * args.interval + args.grace
    await asyncio.wait([p.done for p in protocols], timeout=deadline)
    complete = sum(p.seen >= args.entries for p in protocols)
    for protocol in protocols:
        protocol.transport.close()
    print(json.dumps({"latencies": results, "complete": complete}), flush=True)


# --- publisher (separate process, Django) ------------------------------------------------------


def publisher(args) -> None:
    import django

    django.setup()
    from django.db import transaction

    from events import streamlog
    from events.models import Stream

    stream = Stream.objects.get(pk=args.stream)
    commits: list[float] = []
    started = time.perf_counter()
    for seq in range(args.entries):
        # The payload's keys: "seq", "sent" (wall clock), then padding like real stream output.
        payload = {"seq": seq, "sent": time.time(), "text": "x" * 64}
        with transaction.atomic():
            streamlog.append(
                environment_id=stream.environment_id,
                stream_id=stream.pk,
                kind="stream:data",
                payload=payload,
            )
        commits.append(time.time() - payload["sent"])  # insert + commit + wake-up publish
        next_at = started + (seq + 1) * args.interval
        time.sleep(max(0.0, next_at - time.perf_counter()))
    print(json.dumps({"commit_ms": [1000 * c for c in commits]}))


# --- orchestration -----------------------------------------------------------------------------


GC_PROBE = """import gc, os, time

if os.environ.get("HOT_BENCH_GC_THRESHOLD"):
    gc.set_threshold(*map(int, os.environ["HOT_BENCH_GC_THRESHOLD"].split(",")))

_path = os.environ.get("HOT_BENCH_GC_LOG")
if _path:
    _started = [0.0]

    def _gc_callback(phase, info):
        if phase == "start":
            _started[0] = time.perf_counter()
            return
        pause = 1000 * (time.perf_counter() - _started[0])
        with open(_path, "a") as handle:
            handle.write(f"{time.time():.4f} {info['generation']} {pause:.2f}\\n")

    gc.callbacks.append(_gc_callback)
"""


def gc_env(data_dir: Path, env: dict[str, str], threshold: str | None) -> dict[str, str]:
    """The server's environment with a ``sitecustomize`` that logs every garbage collection
    (wall time, generation, pause) to a file: instrumentation only, no service code changes."""
    probe_dir = data_dir / "gcprobe"
    probe_dir.mkdir()
    (probe_dir / "sitecustomize.py").write_text(GC_PROBE)
    extra = {"HOT_BENCH_GC_THRESHOLD": threshold} if threshold else {}
    return {
        **env,
        **extra,
        "PYTHONPATH": f"{probe_dir}{os.pathsep}{env['PYTHONPATH']}",
        "HOT_BENCH_GC_LOG": str(data_dir / "gc.log"),
    }


def gc_report(data_dir: Path, since: float, until: float) -> dict:
    path = data_dir / "gc.log"
    if not path.exists():
        return {}
    pauses = {0: [], 1: [], 2: []}
    for line in path.read_text().splitlines():
        at, generation, pause = line.split()
        if since <= float(at) <= until:
            pauses[int(generation)].append(float(pause))
    return {
        f"gen{g}": {"count": len(v), "max_ms": max(v, default=0.0), "total_ms": sum(v)}
        for g, v in pauses.items()
    }


def start_profiler(args, pid: int):
    """``py-spy record`` of the web process while entries are published (``--py-spy``)."""
    if not args.py_spy:
        return None
    out = Path(args.profile_out or ".").resolve() / f"sse-fanout-{pid}.txt"
    cmd = [args.py_spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "200"]
    cmd += ["--output", str(out), "--nonblocking", "--threads"]
    print(f"  py-spy profile → {out}")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(profiler) -> None:
    if profiler is None:
        return
    profiler.send_signal(2)  # SIGINT: py-spy writes the profile and exits
    try:
        profiler.wait(timeout=30)
    except subprocess.TimeoutExpired:
        profiler.kill()
        profiler.wait()


def mib(kib: int) -> float:
    return kib / 1024


def bench_mode(args, mode: str) -> dict:
    print(f"\n== {mode} ==", flush=True)
    with (
        temp_dir(args.tmp) as data_dir,
        redis_db(args.redis_url) as redis_url,
        postgres_database(args.postgres_url) as database_url,
    ):
        # One key opens every subscription: lift the per-key stream cap above their number.
        extra = {
            "HOT_SSE_STREAM_SECONDS": "900",
            "HOT_SSE_MAX_STREAMS_PER_KEY": str(args.subscribers + 10),
        }
        if mode == "redis wake-ups":
            extra["REDIS_URL"] = redis_url
        env = service_env(data_dir, database_url, **extra)
        setup = events_setup(env, "--stream")
        server_env = gc_env(data_dir, env, args.gc_threshold) if args.gc_log else env
        with Server(server_env, data_dir / "uvicorn.log") as server:
            pid = server.pid
            rss_idle = proc_status_kib(pid, "VmRSS")
            common = ["--url", server.url, "--token", setup["token"]]
            common += ["--stream", setup["stream_id"], "--entries", str(args.entries)]
            common += ["--interval", str(args.interval)]
            cmd = [sys.executable, "-m", "bench.sse_fanout", "--client", *common]
            cmd += ["--subscribers", str(args.subscribers), "--grace", str(args.grace)]
            cmd += ["--open-concurrency", str(args.open_concurrency)]
            sub = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            try:
                line = sub.stdout.readline()
                if not line.startswith("READY"):
                    sub.wait(timeout=30)
                    raise RuntimeError(f"client failed: {line}{sub.stderr.read()[-3000:]}")
                _, opened, seconds = line.split()
                print(f"  {opened} subscribers connected in {seconds} s", flush=True)
                time.sleep(1)
                rss_connected = proc_status_kib(pid, "VmRSS")
                pub = [sys.executable, "-m", "bench.sse_fanout", "--publisher", *common]
                cpu = (proc_cpu_seconds(pid), proc_cpu_seconds(sub.pid), time.perf_counter())
                publish_began = time.time()
                profiler = start_profiler(args, pid)
                try:
                    published = subprocess.run(
                        pub, cwd=REPO, env=env, check=True, timeout=600, capture_output=True
                    )
                finally:
                    stop_profiler(profiler)
                wall = time.perf_counter() - cpu[2]
                gc_pauses = gc_report(data_dir, publish_began, time.time())
                server_cpu = (proc_cpu_seconds(pid) - cpu[0]) / wall
                client_cpu = (proc_cpu_seconds(sub.pid) - cpu[1]) / wall
                out, err = sub.communicate(timeout=args.grace + 60)
            finally:
                if sub.poll() is None:
                    sub.kill()
                    sub.wait()
            if sub.returncode != 0:
                raise RuntimeError(f"client failed:\n{err[-3000:]}")
            rss_after = proc_status_kib(pid, "VmRSS")
            hwm = proc_status_kib(pid, "VmHWM")
            if server.process.poll() is not None:
                raise RuntimeError("uvicorn died during the run")
    data = json.loads(out.strip().splitlines()[-1])
    for generation, item in gc_pauses.items():
        print(
            f"  GC {generation} while publishing: {item['count']} collections, "
            f"max {item['max_ms']:.1f} ms, total {item['total_ms']:.1f} ms"
        )
    commit_ms = json.loads(published.stdout.strip().splitlines()[-1])["commit_ms"]
    print(
        f"  publisher: insert + commit p50 {percentile(commit_ms, 50):.1f} ms, "
        f"max {max(commit_ms):.1f} ms (included in the latencies)"
    )
    latencies = [1000 * v for _, v in data["latencies"]]
    by_entry: dict[int, list[float]] = {}
    for seq, value in data["latencies"]:
        by_entry.setdefault(seq, []).append(1000 * value)
    spread = [(min(v), percentile(v, 50), max(v)) for _, v in sorted(by_entry.items())]
    print(
        "  per entry (first / median / last delivery, ms): "
        + ", ".join(f"{a:.0f}/{b:.0f}/{c:.0f}" for a, b, c in spread[:: max(1, len(spread) // 10)])
    )
    expected = args.entries * args.subscribers
    row = {
        "mode": mode,
        "subscribers": int(opened),
        "connect_s": float(seconds),
        "deliveries": len(latencies),
        "expected": expected,
        "complete": data["complete"],
        "p50": percentile(latencies, 50),
        "p90": percentile(latencies, 90),
        "p99": percentile(latencies, 99),
        "max": max(latencies) if latencies else float("nan"),
        "rss_idle": mib(rss_idle),
        "rss_connected": mib(rss_connected),
        "rss_after": mib(rss_after),
        "hwm": mib(hwm),
        "server_cpu": server_cpu,
        "client_cpu": client_cpu,
    }
    print(
        f"  deliveries {row['deliveries']}/{expected} (complete subscribers {row['complete']})\n"
        f"  latency p50 {row['p50']:.1f} ms  p90 {row['p90']:.1f} ms  p99 {row['p99']:.1f} ms"
        f"  max {row['max']:.1f} ms\n"
        f"  RSS idle {row['rss_idle']:.1f} MiB, {opened} connected {row['rss_connected']:.1f} MiB,"
        f" after {row['rss_after']:.1f} MiB, VmHWM {row['hwm']:.1f} MiB\n"
        f"  CPU while publishing: uvicorn {100 * server_cpu:.0f}%, client {100 * client_cpu:.0f}%",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["redis", "polling", "both"], default="both")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--grace", type=float, default=30)
    parser.add_argument("--open-concurrency", type=int, default=32)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--tmp", help="parent of the temporary directory")
    parser.add_argument("--gc-log", action="store_true", help="log the server's GC pauses")
    parser.add_argument(
        "--gc-threshold", help="with --gc-log: gc.set_threshold(A, B, C) in the server, 'A,B,C'"
    )
    parser.add_argument("--py-spy", help="path of py-spy: profile uvicorn while publishing")
    parser.add_argument("--profile-out", help="directory for the py-spy profile (default .)")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--publisher", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--stream", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        raise_nofile(args.subscribers + 256)
        asyncio.run(client(args))
        return
    if args.publisher:
        publisher(args)
        return

    exit_on_sigterm()
    limit = raise_nofile(args.subscribers * 2 + 512)  # inherited by uvicorn and the client
    print_machine()
    print(f"open-file limit: {limit}")
    modes = {
        "redis": ["redis wake-ups"],
        "polling": ["polling (no REDIS_URL)"],
        "both": ["redis wake-ups", "polling (no REDIS_URL)"],
    }[args.mode]
    rows = [bench_mode(args, mode) for mode in modes]
    print(f"\nloadavg after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(
        "\n| Wake-ups | subscribers | deliveries | p50 | p99 | max | target p99 ≤ 250 ms "
        "| RSS idle → connected → after | VmHWM | target ≤ 300 MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|---:|---|")
    for r in rows:
        complete = r["deliveries"] == r["expected"]
        lat = "met" if r["p99"] <= TARGET_P99_MS and complete else "**missed**"
        mem = "met" if r["hwm"] * 1.048576 <= TARGET_RSS_MIB else "**missed**"
        print(
            f"| {r['mode']} | {r['subscribers']} | {r['deliveries']}/{r['expected']} | "
            f"{r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['max']:.1f} ms | {lat} | "
            f"{r['rss_idle']:.0f} → {r['rss_connected']:.0f} → {r['rss_after']:.0f} MiB | "
            f"{r['hwm']:.0f} MiB | {mem} |"
        )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
    main()
