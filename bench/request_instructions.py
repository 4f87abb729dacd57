"""Instructions the web process spends per request, counted by valgrind's callgrind: repeatable
where requests per second on a shared VM are not (the same code measured 2,000-4,300 µs per
request in process from one run to the next here, while its instruction count stays put).

For each target the WSGI application is called in a child process under callgrind, once with
``--requests`` N1 and once with N2 requests after the same start-up and warm-up; the difference
of the two totals divided by N2 - N1 is what one request costs, start-up excluded. Targets:

- ``bare``: the bare view returning the project's JSON (``bench.bench_settings``), no query;
- ``full``: ``GET /v1/projects/{name}`` as a gunicorn worker serves it: its one connection kept
  across requests (no pool) and checked before each (``hotapi.gunicorn_conf``);
- ``full-pooled``: the same with Django's pool, a connection taken and given back per request
  (as under uvicorn).

The database and Redis do their part in their own processes, which callgrind does not count.

    .venv/bin/python bench/request_instructions.py --redis-url redis://127.0.0.1:6379/14
    .venv/bin/python bench/request_instructions.py --db sqlite --targets bare,full

Needs ``valgrind`` (Debian's package). Each child runs about a minute under callgrind.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    DEFAULT_POSTGRES_URL,
    bare_view_env,
    callgrind_total,
    django_setup,
    exit_on_sigterm,
    postgres_database,
    print_machine,
    temp_dir,
)

TARGETS = ("bare", "full", "full-pooled")
WARMUP = 50


# --- the child: the WSGI application called directly ----------------------------------------


def child_main(args) -> None:
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    from hotapi.db import keep_connections_across_requests, keep_usable_connections

    bare = args.target == "bare"
    path = f"/bench/bare/projects/{args.project}" if bare else f"/v1/projects/{args.project}"
    before_request = lambda: None  # noqa: E731
    if args.target == "full":  # as hotapi.gunicorn_conf sets up a sync worker
        keep_connections_across_requests()
        before_request = keep_usable_connections
    application = WSGIHandler()

    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            raise RuntimeError(f"{path}: {status}")

    def request() -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "4681",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:4681",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
        }
        if not bare:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {args.token}"
        before_request()
        response = application(environ, start_response)
        b"".join(response)
        response.close()

    for _ in range(WARMUP):
        request()
    import gc

    gc.freeze()  # as hotapi.wsgi
    gc.set_threshold(50_000, 50, 100)
    for _ in range(args.count):
        request()


# --- the parent -----------------------------------------------------------------------------


def count_instructions(env: dict, target: str, requests: int, setup: dict, out: Path) -> int:
    child_env = dict(env, PYTHONHASHSEED="0")  # the same dict layouts in both runs
    if target == "full":
        child_env["HOT_DB_POOL"] = "0"
    child = [
        *(sys.executable, "-m", "bench.request_instructions", "--child"),
        *("--target", target, "--count", str(requests)),
        *("--project", setup["project"], "--token", setup["token"]),
    ]
    return callgrind_total(child, out, child_env, f"{target} x {requests}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--redis-url", default=None, help="Redis for the throttle and the cache")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--requests", type=int, nargs=2, default=[20, 120], metavar=("N1", "N2"))
    parser.add_argument("--tmp", default=None, help="parent of the temporary data dir")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--project", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return
    targets = [name.strip() for name in args.targets.split(",") if name.strip()]
    if unknown := set(targets) - set(TARGETS):
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    low, high = args.requests
    if high <= low:
        parser.error("N2 must be larger than N1")
    exit_on_sigterm()
    print_machine()
    with temp_dir(args.tmp) as data_dir, contextlib.ExitStack() as stack:
        database_url = None
        if args.db == "postgres":
            database_url = stack.enter_context(postgres_database(args.postgres_url))
        env, body_path = bare_view_env(data_dir, database_url, args.redis_url)
        setup = django_setup(env, "--bare-body", str(body_path))
        per_request = {}
        for target in targets:
            totals = [
                count_instructions(env, target, n, setup, data_dir / f"{target}.{n}.out")
                for n in (low, high)
            ]
            per_request[target] = (totals[1] - totals[0]) / (high - low)
            print(f"  {target}: {per_request[target] / 1e6:.3f} M instructions per request")
    bare = per_request.get("bare")
    redis = "yes" if args.redis_url else "no"
    print("\n| db | Redis | target | instructions per request | bare / target |")
    print("|---|---|---|---:|---:|")
    for target, count in per_request.items():
        ratio = f"{bare / count:.0%}" if bare else "–"
        print(f"| {args.db} | {redis} | {target} | {count / 1e6:.2f} M | {ratio} |")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bench_settings")
    main()
