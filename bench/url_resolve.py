"""Instructions Django's URL resolver spends finding the view of one API request, with the
routes grouped by first segment (``hotapi.urls``, as the service serves them) against the same
routes as the plain list of includes (``bench.plain_api_urls``), side by side in one run.

For each path and URLconf a child process resolves the path N1 times, then N2 times, under
valgrind's callgrind (the same start-up in both); the difference of the totals divided by
N2 - N1 is one resolution. Counted, not timed: on a shared VM the same loop's time varied 2×
within a minute while its instruction count stays put. No database, Redis or server is needed.

    .venv/bin/python bench/url_resolve.py
    .venv/bin/python bench/url_resolve.py --paths /v1/events,/v1/runs/abc

Needs ``valgrind`` (Debian's package). Each child runs 20-40 seconds under callgrind, one per
core at a time: 10-20 minutes for the default paths on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import callgrind_total, exit_on_sigterm, print_machine, temp_dir

URLCONFS = {"grouped": "hotapi.urls", "plain": "bench.plain_api_urls"}
# First and last of the apps' includes, a stream route, an /api/v1 alias, and a 404.
PATHS = (
    "/v1/projects/hello",
    "/v1/events",
    "/v1/runs/0190a4b2-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
    "/v1/streams/subscribe-with-event",
    "/api/v1/events/e1/runs",
    "/v1/no-such-route",
)


def child_main(urlconf: str, path: str, count: int) -> None:
    import django

    django.setup()
    from django.urls import get_resolver

    resolver = get_resolver(urlconf)
    resolver.resolve(path)  # built and compiled before the counted loop
    for _ in range(count):
        resolver.resolve(path)


def count_instructions(urlconf: str, path: str, count: int, out: Path, env: dict) -> int:
    child = [sys.executable, "-m", "bench.url_resolve", "--child", urlconf, path, str(count)]
    return callgrind_total(child, out, env, f"{urlconf} {path} x {count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--counts", type=int, nargs=2, default=[0, 2000], metavar=("N1", "N2"))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        urlconf, path, count = args.child
        child_main(urlconf, path, int(count))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    low, high = args.counts
    if high <= low:
        parser.error("N2 must be larger than N1")
    paths = [path.strip() for path in args.paths.split(",") if path.strip()]
    exit_on_sigterm()
    print_machine()
    with temp_dir() as data_dir:
        env = dict(os.environ, PYTHONHASHSEED="0", HOT_DATA_DIR=str(data_dir))
        jobs = {
            (name, path, count): (urlconf, path, count, data_dir / f"{name}.{index}.{count}", env)
            for name, urlconf in URLCONFS.items()
            for index, path in enumerate(paths)
            for count in (low, high)
        }
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            totals = dict(
                zip(
                    jobs, pool.map(lambda job: count_instructions(*job), jobs.values()), strict=True
                )
            )
    print("\n| path | plain list (k instructions) | grouped (k instructions) | grouped / plain |")
    print("|---|---:|---:|---:|")
    for path in paths:
        per = {
            name: (totals[(name, path, high)] - totals[(name, path, low)]) / (high - low)
            for name in URLCONFS
        }
        print(
            f"| `{path}` | {per['plain'] / 1e3:.0f} | {per['grouped'] / 1e3:.0f} "
            f"| {per['grouped'] / per['plain']:.0%} |"
        )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
    main()
