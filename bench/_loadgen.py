"""Fallback load generator (when ``wrk`` is not installed): asyncio + httpx, keep-alive
connections, a bounded duration. Run as ``python -m bench._loadgen URL --duration 10 ...`` in a
separate process; prints one JSON line. Much slower than wrk: on a small machine it can be the
bottleneck, which the report then says.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx


async def run(url: str, headers: dict[str, str], connections: int, duration: float) -> dict:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    counts: dict[int, int] = {}
    errors = 0
    latencies: list[float] = []
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=10) as client:
        start = time.perf_counter()
        deadline = start + duration

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                try:
                    response = await client.get(url)
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - began)
                counts[response.status_code] = counts.get(response.status_code, 0) + 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    total = sum(counts.values())
    latencies.sort()
    return {
        "requests": total,
        "seconds": elapsed,
        "rps": total / elapsed if elapsed else 0.0,
        "non_2xx": sum(n for code, n in counts.items() if not 200 <= code < 300),
        "errors": errors,
        "latency_avg_ms": 1000 * sum(latencies) / len(latencies) if latencies else 0.0,
        "latency_p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10)
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    print(json.dumps(asyncio.run(run(args.url, headers, args.connections, args.duration))))


if __name__ == "__main__":
    main()
