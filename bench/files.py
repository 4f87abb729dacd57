"""Benchmark 9: files through the API vs ``cp`` of the same file, and a 20 MiB event.

Against one uvicorn process, on local storage, in the same run:

- ``PUT /v1/files/upload/{path}`` of a file of random bytes (200 MiB by default, under the
  256 MiB single-request limit), streamed from a file object by httpx;
- ``GET /v1/files/{id}/download`` of it, read in chunks and thrown away;
- a multipart upload of the same file in 32 MiB parts (start, parts, complete);
- ``cp`` of the same file on the same disk (the reference);
- ``POST /v1/events`` with 20 MiB of event data, then ``GET /v1/events/{id}`` (kept as a blob,
  given back whole).

Each reports its throughput and the peak RSS growth of the uvicorn process while it ran
(VmHWM reset before, read after, and VmRSS sampled every 10 ms: the bytes must stream, not sit
in memory). Targets: upload and download >= 25% of ``cp``; peak RSS growth <= 32 MiB for the
file transfers (the event is JSON: parsed and written whole, so its growth is only reported).

    .venv/bin/python bench/files.py                  # 200 MiB, 3 repetitions, median
    .venv/bin/python bench/files.py --size-mib 100 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench._common import (
    MiB,
    Server,
    django_setup,
    exit_on_sigterm,
    print_machine,
    proc_status_kib,
    service_env,
    temp_dir,
)
from bench.upload import RssSampler, reset_hwm, time_cp

TARGET_RATIO = 0.25
TARGET_GROWTH_MIB = 32
PART_MIB = 32
EVENT_MIB = 20


def measured(server: Server, work) -> dict:
    """Run ``work()``; its duration and the server's peak RSS growth meanwhile."""
    pid = server.pid
    os.sync()
    hwm_reset = reset_hwm(pid)
    before = proc_status_kib(pid, "VmRSS")
    sampler = RssSampler(pid)
    sampler.start()
    began = time.perf_counter()
    try:
        work()
    finally:
        seconds = time.perf_counter() - began
        sampler.stop()
    peak = max(proc_status_kib(pid, "VmHWM") if hwm_reset else 0, sampler.peak_kib)
    return {"seconds": seconds, "growth_mib": (peak - before) / 1024}


def checked(response: httpx.Response, status: int = 200) -> dict:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    return response.json()["data"]


def put_file(client: httpx.Client, path: Path) -> dict:
    with open(path, "rb") as handle:  # streamed by httpx, never read whole
        return checked(client.put("/v1/files/upload/bench/big.bin", content=handle))


def download(client: httpx.Client, file_id: str, size: int) -> None:
    received = 0
    with client.stream("GET", f"/v1/files/{file_id}/download") as response:
        for chunk in response.iter_bytes(1024 * 1024):
            received += len(chunk)
    if received != size:
        raise RuntimeError(f"downloaded {received} of {size} bytes")


def multipart(client: httpx.Client, path: Path, size: int) -> None:
    upload = checked(
        client.post("/v1/files/uploads", json={"path": "bench/parts.bin", "expected_size": size}),
        201,
    )
    part_bytes = PART_MIB * MiB
    with open(path, "rb") as handle:
        number = 1
        while chunk := handle.read(part_bytes):
            checked(client.put(f"/v1/files/uploads/{upload['upload_id']}/{number}", content=chunk))
            number += 1
    file = checked(client.post(f"/v1/files/uploads/{upload['upload_id']}/complete"))
    if file["size"] != size:
        raise RuntimeError(f"assembled {file['size']} of {size} bytes")


def event_round_trip(client: httpx.Client, document: str) -> None:
    body = {"event_type": "bench.doc", "event_data": {"doc": document}}
    event = checked(client.post("/v1/events", json=body), 201)
    fetched = checked(client.get(f"/v1/events/{event['event_id']}"))
    if fetched["event_data"]["doc"] != document:
        raise RuntimeError("the event came back different")


def median_row(name: str, rows: list[dict], megabytes: float, cp_rate: float | None) -> str:
    rate = statistics.median(megabytes / row["seconds"] for row in rows)
    growth = statistics.median(row["growth_mib"] for row in rows)
    worst = max(row["growth_mib"] for row in rows)
    ratio = f"{100 * rate / cp_rate:.0f}% of cp" if cp_rate else ""
    return f"| {name} | {rate:.1f} MiB/s {ratio} | {growth:.1f} MiB (max {worst:.1f}) |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tmp", default=None, help="parent of the temporary data dir")
    args = parser.parse_args()

    exit_on_sigterm()
    print_machine()
    size = args.size_mib * MiB
    with temp_dir(args.tmp) as root:
        source = root / "big.bin"
        with open(source, "wb") as handle:
            for _ in range(args.size_mib):
                handle.write(os.urandom(MiB))
        secret = secrets.token_urlsafe(50)  # required with DEBUG off
        env = service_env(
            root / "data", None, TMPDIR=str(root), SECRET_KEY=secret, HOT_API_KEY_PEPPER=secret
        )
        setup = django_setup(env)
        document = "0123456789abcdef" * (EVENT_MIB * MiB // 16)
        rows: dict[str, list[dict]] = {"cp": [], "put": [], "download": [], "multipart": []}
        rows["event"] = []
        with Server(env, root / "uvicorn.log") as server:
            headers = {"Authorization": f"Bearer {setup['token']}"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=600) as client:
                put_file(client, source)  # warm-up: every code path loaded once
                uploaded: dict = {}
                for run in range(1, args.repeat + 1):
                    rows["cp"].append({"seconds": time_cp(source, root / "copy.bin")})
                    rows["put"].append(
                        measured(server, lambda: uploaded.update(put_file(client, source)))
                    )
                    rows["download"].append(
                        measured(server, lambda: download(client, uploaded["file_id"], size))
                    )
                    rows["multipart"].append(
                        measured(server, lambda: multipart(client, source, size))
                    )
                    rows["event"].append(
                        measured(server, lambda: event_round_trip(client, document))
                    )
                    print(
                        f"  run {run}: "
                        + ", ".join(
                            f"{name} {row[-1]['seconds']:.2f} s"
                            + (f" (+{row[-1]['growth_mib']:.1f} MiB)" if name != "cp" else "")
                            for name, row in rows.items()
                        ),
                        flush=True,
                    )
            if server.process.poll() is not None:
                raise RuntimeError("uvicorn died during the run")

    megabytes = size / MiB
    cp_rate = statistics.median(megabytes / row["seconds"] for row in rows["cp"])
    print(f"\nmedian of {args.repeat} runs, a {megabytes:.0f} MiB file, a {EVENT_MIB} MiB event:")
    print("| transfer | throughput | uvicorn peak RSS growth |")
    print("|---|---:|---:|")
    print(f"| cp | {cp_rate:.0f} MiB/s | |")
    for name, label in (
        ("put", "PUT /v1/files/upload"),
        ("download", "GET …/download"),
        ("multipart", f"multipart, {PART_MIB} MiB parts"),
    ):
        print(median_row(label, rows[name], megabytes, cp_rate))
    print(median_row("20 MiB event: POST + GET", rows["event"], 2 * EVENT_MIB, None))
    worst = max(row["growth_mib"] for name in ("put", "download") for row in rows[name])
    ratios = [
        statistics.median(megabytes / row["seconds"] for row in rows[name]) / cp_rate
        for name in ("put", "download")
    ]
    speed = "met" if min(ratios) >= TARGET_RATIO else "MISSED"
    memory = "met" if worst <= TARGET_GROWTH_MIB else "MISSED"
    print(
        f"targets: upload and download >= 25% of cp: {speed}; "
        f"peak growth <= {TARGET_GROWTH_MIB} MiB: {memory}"
    )


if __name__ == "__main__":
    main()
