"""CPU the stream hub spends per poll of the stream log: its prebuilt statement
(``events.hub.StreamHub.poll_once``, as the service runs it) against the same read built
through the ORM per poll (``StreamEntry.objects.filter(...).values_list(...)``, what the hub
did before D83), side by side in one process, alternated round by round.

The hub polls at least twice per wake-up (the poll that delivers, then one that finds
nothing), so the empty poll is what this measures: the log holds ``--entries`` entries, all
before the hub's cursor. PostgreSQL: a throwaway database (``--postgres-url``).

    .venv/bin/python bench/hub_poll.py
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    DEFAULT_POSTGRES_URL,
    exit_on_sigterm,
    postgres_database,
    print_machine,
    python_json,
    service_env,
    temp_dir,
)
from bench._services import events_setup


def child_main(args) -> dict:
    import django

    django.setup()
    from environments.models import Environment
    from events import streamlog
    from events.hub import BATCH, ENTRY_FIELDS, StreamHub
    from events.models import Stream, StreamEntry

    environment = Environment.objects.get(pk=args.environment)
    stream = Stream.objects.create(environment=environment)
    streamlog.append_many(
        [
            streamlog.entry(
                environment_id=environment.pk, stream_id=stream.pk, kind="x", payload={"n": n}
            )
            for n in range(args.entries)
        ]
    )
    hub = StreamHub()
    hub._cursor = StreamEntry.objects.order_by("-id").values_list("id", flat=True).first()

    def orm_poll() -> int:  # the hub's read before D83
        rows = list(
            StreamEntry.objects.filter(id__gt=hub._cursor)
            .order_by("id")
            .values_list(*ENTRY_FIELDS)[:BATCH]
        )
        return len(rows)

    polls = {"prebuilt statement": hub.poll_once, "ORM query per poll": orm_poll}
    cpu: dict[str, list[float]] = {name: [] for name in polls}
    for round_index in range(args.rounds):
        order = list(polls) if round_index % 2 == 0 else list(polls)[::-1]
        for name in order:
            poll = polls[name]
            for _ in range(100):
                poll()
            began = time.process_time()
            for _ in range(args.polls):
                if poll():
                    raise RuntimeError("an empty poll found entries")
            cpu[name].append((time.process_time() - began) / args.polls)
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--polls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--environment", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_main(args)))
        return
    exit_on_sigterm()
    print_machine()
    with temp_dir() as data_dir, contextlib.ExitStack() as stack:
        database_url = stack.enter_context(postgres_database(args.postgres_url))
        env = service_env(data_dir, database_url, DJANGO_SETTINGS_MODULE="hotapi.settings")
        setup = events_setup(env)
        child = ["-m", "bench.hub_poll", "--child", "--environment", setup["env_id"]]
        child += ["--polls", str(args.polls), "--rounds", str(args.rounds)]
        child += ["--entries", str(args.entries)]
        cpu = python_json(child, env, "polls", timeout=900)
    print("\n| poll | CPU per empty poll (µs), median | range |")
    print("|---|---:|---|")
    for name, values in cpu.items():
        low, high = min(values) * 1e6, max(values) * 1e6
        print(f"| {name} | {statistics.median(values) * 1e6:.0f} | {low:.0f}–{high:.0f} |")


if __name__ == "__main__":
    main()
