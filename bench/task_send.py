"""CPU the web process spends handing one task to the Redis broker (``route_event.delay``, as
every publish does after its commit), as the service configures Celery against Celery's stock
setup, side by side in one run, with a bare ``LPUSH`` of a message of the same size for scale.

Variants, each in its own child process, alternated round by round:

- ``service``: ``hotapi.celery`` as it runs: the ``CELERY_*`` settings read once into a dict
  (``CelerySettings``) and kombu's Redis channel keeping its sending client
  (``hotapi.broker.RedisTransport``);
- ``stock``: the same app configured the usual way (``config_from_object("django.conf:settings",
  namespace="CELERY")``) on kombu's own Redis transport.

Each round sends ``--sends`` tasks after a warm-up and reports CPU (``time.process_time``) and
wall time per send; the table gives the median round. No worker runs: the messages stay in the
queue of Redis database 14 (``--redis-url``), which is emptied before and after.

    .venv/bin/python bench/task_send.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import exit_on_sigterm, print_machine, python_json, service_env, temp_dir
from bench._services import DEFAULT_REDIS_URL, redis_db

VARIANTS = ("service", "stock")
WARMUP = 200


def child_main(variant: str, sends: int) -> None:
    import django

    django.setup()
    from hotapi.celery import app

    if variant == "stock":
        from kombu.transport import TRANSPORT_ALIASES

        if app.configured:
            raise SystemExit("the Celery app was configured before the stock setup could apply")
        TRANSPORT_ALIASES["redis"] = "kombu.transport.redis:Transport"
        app.config_from_object("django.conf:settings", namespace="CELERY")
    from runs.tasks import route_event

    event_ids = [str(uuid.uuid4()) for _ in range(WARMUP + sends)]
    for event_id in event_ids[:WARMUP]:
        route_event.delay(event_id)
    began, cpu = time.perf_counter(), time.process_time()
    for event_id in event_ids[WARMUP:]:
        route_event.delay(event_id)
    task = ((time.perf_counter() - began) / sends, (time.process_time() - cpu) / sends)

    with app.connection_for_write() as connection:
        client = connection.default_channel.client  # the transport's own client
        transport = (
            type(connection.transport).__module__ + "." + type(connection.transport).__name__
        )
        queue = app.conf.task_default_queue
        size = len(client.lindex(queue, 0) or b"")
        body = b"x" * size
        began, cpu = time.perf_counter(), time.process_time()
        for _ in range(sends):
            client.lpush("bench:raw", body)
        raw = ((time.perf_counter() - began) / sends, (time.process_time() - cpu) / sends)
    print(json.dumps({"task": task, "raw": raw, "transport": transport, "size": size}))


def run_child(env: dict, variant: str, sends: int) -> dict:
    args = ["-m", "bench.task_send", "--child", variant, "--sends", str(sends)]
    return python_json(args, env, variant, timeout=600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.sends)
        return
    exit_on_sigterm()
    print_machine()
    results: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
    with temp_dir() as data_dir, redis_db(args.redis_url) as redis_url:
        env = service_env(
            data_dir,
            None,
            REDIS_URL=redis_url,
            CELERY_BROKER_URL=redis_url,
            HOT_CELERY_QUEUE=f"hot-bench-send-{uuid.uuid4().hex[:8]}",
            DJANGO_SETTINGS_MODULE="hotapi.settings",
        )
        for round_index in range(args.rounds):
            order = VARIANTS if round_index % 2 == 0 else VARIANTS[::-1]
            for variant in order:
                result = run_child(env, variant, args.sends)
                results[variant].append(result)
                task_wall, task_cpu = result["task"]
                print(
                    f"  round {round_index + 1} {variant}: {task_cpu * 1e6:.0f} µs CPU, "
                    f"{task_wall * 1e6:.0f} µs wall per send ({result['transport']})",
                    flush=True,
                )
    print("\n| variant | CPU per send (µs) | wall per send (µs) | bare LPUSH CPU (µs) | message |")
    print("|---|---:|---:|---:|---:|")
    for variant, rounds in results.items():
        task_cpu = statistics.median(r["task"][1] for r in rounds) * 1e6
        task_wall = statistics.median(r["task"][0] for r in rounds) * 1e6
        raw_cpu = statistics.median(r["raw"][1] for r in rounds) * 1e6
        size = rounds[0]["size"]
        print(f"| {variant} | {task_cpu:.0f} | {task_wall:.0f} | {raw_cpu:.0f} | {size} B |")


if __name__ == "__main__":
    main()
