"""Benchmark 2: upload of a ~100 MiB bundle through the API vs a bare socket upload.

``POST /v1/projects/{p}/builds`` (multipart ``file`` + ``hash`` = SHA-256 of the zip), streamed
from a file object by httpx, against the REST API's server (``--server``: gunicorn with one
sync worker by default, or uvicorn); and, alternating with it in the same run, the same httpx
upload to a bare socket server writing the body to a file on the same disk
(``bench/_raw_receiver.py``): the transfer and the disk writes any upload needs, without the
service's work. That baseline replaces ``cp``, a page-cache copy whose speed varied 6× between
runs. Reports upload MiB/s, the ratio to the baseline (target >= 25%), the server's CPU seconds
per upload, and the peak RSS growth of the process handling the upload (target <= 32 MiB):
VmHWM is reset before each upload (``/proc/<pid>/clear_refs`` = 5) and read after it, and VmRSS
is also sampled every 10 ms.

    .venv/bin/python bench/upload.py                 # zstd bundle, 5 repetitions, median
    .venv/bin/python bench/upload.py --compression stored --repeat 3

The bundle is built with tests/bundles.py: the default Hot program plus one ``resources/`` file of
random (incompressible) bytes, sized so the total uncompressed size stays just under the
server's 100 MiB limit. The data dir (server storage, spooled uploads, the copies) is a fresh
temporary directory, removed at the end with the uvicorn process.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench._common import (
    REPO,
    MiB,
    Server,
    django_setup,
    exit_on_sigterm,
    print_machine,
    proc_cpu_seconds,
    proc_status_kib,
    service_env,
    temp_dir,
)

TARGET_RATIO = 0.25
TARGET_GROWTH_MIB = 32
LIMIT_BYTES = 100 * MiB  # the server's per-file and total uncompressed limits
HEADROOM = 128 * 1024  # for manifest.hot, the source and docs.json


def build_bundle(path: Path, compression: str) -> tuple[int, str]:
    """Write the bench bundle to ``path``; return (size, sha256 hex)."""
    sys.path.insert(0, str(REPO))
    from tests.bundles import make_bundle

    data, _ = make_bundle(
        resources={"blob.bin": os.urandom(LIMIT_BYTES - HEADROOM)}, compression=compression
    )
    path.write_bytes(data)
    return len(data), hashlib.sha256(data).hexdigest()


class RssSampler(threading.Thread):
    """Samples VmRSS of ``pid`` every ``interval`` seconds until stopped; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.01):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.peak_kib = max(self.peak_kib, proc_status_kib(self.pid, "VmRSS"))
                self.samples += 1
            except (OSError, KeyError):
                return
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def reset_hwm(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def time_raw(client: httpx.Client, url: str, path: Path, sha: str) -> float:
    os.sync()  # start from no dirty pages, as the upload does
    began = time.perf_counter()
    response = upload(client, url, path, sha)
    elapsed = time.perf_counter() - began
    if response.status_code != 201:
        raise RuntimeError(f"raw upload failed: {response.status_code}")
    return elapsed


@contextlib.contextmanager
def raw_receiver(directory: Path):
    """The baseline server (bench/_raw_receiver.py) in a child process; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench._raw_receiver", str(directory)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}/upload"
    finally:
        process.kill()
        process.wait()


def handling_pid(server: Server) -> int:
    """The process that handles requests: gunicorn's (one) worker, or the server itself."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    if server.kind == "gunicorn":
        for _ in range(100):
            pids = children.read_text().split()
            if pids:
                return int(pids[0])
            time.sleep(0.1)
        raise RuntimeError("gunicorn has no worker")
    return server.pid


def upload(client: httpx.Client, url: str, path: Path, sha: str) -> httpx.Response:
    with open(path, "rb") as handle:  # streamed by httpx in chunks, never read whole
        return client.post(
            url,
            files={"file": ("bundle.hot.zip", handle, "application/zip")},
            data={"hash": sha},
        )


def timed_upload(client: httpx.Client, pid: int, url: str, path: Path, sha: str) -> dict:
    os.sync()  # write back the previous copy first: it must not slow this upload down
    hwm_reset = reset_hwm(pid)
    before_kib = proc_status_kib(pid, "VmRSS")
    cpu_before = proc_cpu_seconds(pid)
    client_before = resource.getrusage(resource.RUSAGE_SELF)
    sampler = RssSampler(pid)
    sampler.start()
    began = time.perf_counter()
    try:
        response = upload(client, url, path, sha)
    finally:
        elapsed = time.perf_counter() - began
        sampler.stop()
    client_after = resource.getrusage(resource.RUSAGE_SELF)
    if response.status_code != 201:
        raise RuntimeError(f"upload failed: {response.status_code} {response.text[:500]}")
    if response.json()["data"]["size"] != path.stat().st_size:
        raise RuntimeError(f"the server recorded another size: {response.text[:500]}")
    hwm_kib = proc_status_kib(pid, "VmHWM") if hwm_reset else 0
    peak_kib = max(hwm_kib, sampler.peak_kib)
    return {
        "seconds": elapsed,
        "rss_before_mib": before_kib / 1024,
        "growth_mib": (peak_kib - before_kib) / 1024,
        "sampled_growth_mib": (sampler.peak_kib - before_kib) / 1024,
        "hwm_growth_mib": (hwm_kib - before_kib) / 1024 if hwm_reset else float("nan"),
        "retained_mib": (proc_status_kib(pid, "VmRSS") - before_kib) / 1024,
        "server_cpu_s": proc_cpu_seconds(pid) - cpu_before,
        "client_cpu_s": (client_after.ru_utime + client_after.ru_stime)
        - (client_before.ru_utime + client_before.ru_stime),
        "samples": sampler.samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compression", choices=["zstd", "stored"], default="zstd")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tmp", default=None, help="parent of the temporary data dir")
    parser.add_argument("--server", choices=["gunicorn", "uvicorn"], default="gunicorn")
    args = parser.parse_args()

    exit_on_sigterm()
    print_machine()
    with temp_dir(args.tmp) as root:
        data_dir = root / "data"
        bundle = root / "bundle.hot.zip"
        began = time.perf_counter()
        size, sha = build_bundle(bundle, args.compression)
        print(
            f"bundle: {size} bytes ({size / MiB:.2f} MiB), {args.compression}, one resource of "
            f"{(LIMIT_BYTES - HEADROOM) / MiB:.2f} MiB random bytes; "
            f"built in {time.perf_counter() - began:.1f} s"
        )
        # Everything on one disk: the server's data dir, Django's spooled request body (the
        # system temp dir, hence TMPDIR) and the cp copies all live under ``root``.
        env = service_env(
            data_dir,
            None,
            HOT_BUILD_MAX_BYTES=str(size + MiB),
            TMPDIR=str(root),
            HOT_WEB_WORKERS="1",  # one gunicorn worker: the process measured
        )
        setup = django_setup(env)
        fs = subprocess.run(
            ["stat", "-f", "-c", "%T", str(root)], capture_output=True, text=True
        ).stdout.strip()
        print(f"filesystem of the data dir and the copies: {fs}")

        with (
            Server(env, root / "server.log", kind=args.server) as server,
            raw_receiver(root) as raw_url,
        ):
            url = f"{server.url}/v1/projects/{setup['project']}/builds"
            pid = handling_pid(server)
            print(f"{args.server}: request handled by pid {pid} on {server.url}", flush=True)
            headers = {"Authorization": f"Bearer {setup['token']}"}
            with httpx.Client(headers=headers, timeout=600) as client:
                # Warm-up: a small bundle loads every code path (bundle reader, zstd, blake3).
                from tests.bundles import make_bundle

                small, _ = make_bundle()
                warm = root / "small.hot.zip"
                warm.write_bytes(small)
                if upload(client, url, warm, hashlib.sha256(small).hexdigest()).status_code != 201:
                    raise RuntimeError("warm-up upload failed")
                time_raw(client, raw_url, warm, "x")

                rows = []
                for run in range(1, args.repeat + 1):
                    raw_seconds = time_raw(client, raw_url, bundle, sha)
                    result = timed_upload(client, pid, url, bundle, sha)
                    result["raw_seconds"] = raw_seconds
                    rows.append(result)
                    print(
                        f"  run {run}: raw socket {size / MiB / raw_seconds:7.1f} MiB/s  "
                        f"upload {size / MiB / result['seconds']:6.1f} MiB/s "
                        f"({result['seconds']:.2f} s, CPU server {result['server_cpu_s']:.2f} s "
                        f"client {result['client_cpu_s']:.2f} s)  "
                        f"RSS before {result['rss_before_mib']:.1f} MiB, peak growth "
                        f"{result['growth_mib']:.1f} MiB (HWM {result['hwm_growth_mib']:.1f}, "
                        f"sampled {result['sampled_growth_mib']:.1f} over {result['samples']}), "
                        f"retained {result['retained_mib']:.1f} MiB"
                    )
            if not server.alive():
                raise RuntimeError(f"{args.server} died during the run")

    raw_rate = statistics.median(size / MiB / r["raw_seconds"] for r in rows)
    up_rate = statistics.median(size / MiB / r["seconds"] for r in rows)
    ratios = [r["raw_seconds"] / r["seconds"] for r in rows]
    server_cpu = statistics.median(r["server_cpu_s"] for r in rows)
    growth = statistics.median(r["growth_mib"] for r in rows)
    worst = max(r["growth_mib"] for r in rows)
    ratio = statistics.median(ratios)
    print(f"\nmedian of {len(rows)} runs ({args.compression} bundle, {size / MiB:.2f} MiB):")
    print("| metric | value | target | |")
    print("|---|---:|---|---|")
    print(f"| bare socket upload (baseline) | {raw_rate:.0f} MiB/s | | |")
    print(f"| upload throughput | {up_rate:.1f} MiB/s | | |")
    print(f"| server CPU per upload | {server_cpu:.2f} s | | |")
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    low, high = min(ratios), max(ratios)
    print(
        f"| upload / bare socket upload, per run | {100 * ratio:.1f}% "
        f"({100 * low:.0f}–{100 * high:.0f}%) | >= 25% | {verdict} |"
    )
    verdict = "met" if worst <= TARGET_GROWTH_MIB else "MISSED"
    growth_text = f"{growth:.1f} MiB (max {worst:.1f})"
    print(f"| {args.server} peak RSS growth | {growth_text} | <= 32 MiB | {verdict} |")


if __name__ == "__main__":
    main()
