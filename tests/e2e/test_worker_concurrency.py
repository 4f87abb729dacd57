"""A worker with two slots (prefork, concurrency 2) on PostgreSQL and Redis finishes every run
exactly once: many events published at once, some with two handlers (one run executed by the
routing task itself, the other sent as a message of its own), both slots busy at the same time.

Issue 17 found concurrency 2 slower than 1 and losing runs (claims deadlocking against the
foreign-key checks of concurrent commits, a re-enqueue storm); this keeps it from coming back,
and checks that the worker keeps its database connections across tasks (D70). With a limit of
one run, no two runs of the environment overlap across the two slots (D79).
"""

import os
import uuid

import pytest
from django.db.models import Count

from events.models import Event, StreamEntry
from hotapi.celery import app as celery_app
from runs.models import Run
from runs.services import run_counters_reconcile
from tests import live
from tests.runs import deploy, hot_bundle
from tests.worker import WorkerProcess, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres")
        or not os.environ.get("REDIS_URL"),
        reason="needs PostgreSQL and Redis (the PostgreSQL + Redis pass of the suite)",
    ),
]

SOURCE = """\
::app::main ns

one fn (event) { {one: event.data.n} }

two-a fn (event) { {a: event.data.n} }

two-b fn (event) { {b: event.data.n} }
"""
EVENTS = 240  # a third of them with two handlers: 320 runs
BATCH = 60


@pytest.fixture
def worker_queue(tmp_path, django_db_blocker, storage_dir):
    """A queue only this test's worker (concurrency 2) consumes; what the test publishes goes
    there."""
    queue = f"hot-conc-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    with django_db_blocker.unblock():
        worker = WorkerProcess(
            queue, tmp_path / "worker.log", concurrency=2, HOT_CELERY_QUEUE=queue
        )
    yield worker
    worker.stop()
    celery_app.conf.task_default_queue = previous


def database_stats() -> tuple[int, int]:
    """(deadlocks, sessions opened) so far in the test database, as PostgreSQL counts them."""
    with live.connect_test_database() as conn:
        return conn.execute(
            "SELECT deadlocks, sessions FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()


def publish_load(api, environment, *, events: int, max_concurrent_runs: int) -> int:
    """Deploy the handlers, publish ``events`` events in batches (a third of them with two
    handlers) and wait until all their runs succeeded. Returns how many runs that is."""
    environment.max_concurrent_runs = max_concurrent_runs
    environment.requests_per_hour = 0
    environment.save()
    deploy(
        api,
        hot_bundle(
            SOURCE,
            [("load.one", "one"), ("load.two", "two-a"), ("load.two", "two-b")],
        ),
    )
    for start in range(0, events, BATCH):
        items = [
            {"event_type": "load.two" if n % 3 == 0 else "load.one", "event_data": {"n": n}}
            for n in range(start, min(start + BATCH, events))
        ]
        response = api.post("/v1/events/batch", {"events": items}, format="json")
        assert response.status_code in (200, 201, 207), response.json()
    expected_runs = events + (events + 2) // 3

    wait_for(
        lambda: (
            Run.objects.filter(status="succeeded").count() >= expected_runs
            and not Run.objects.exclude(status="succeeded").exists()
        ),
        timeout=240,
        interval=0.5,
        message=f"{expected_runs} runs to succeed",
    )
    return expected_runs


def test_concurrency_two_finishes_every_run_exactly_once(api, environment, project, worker_queue):
    deadlocks_before, sessions_before = database_stats()
    expected_runs = publish_load(api, environment, events=EVENTS, max_concurrent_runs=100)

    # Every event routed once, with one run per handler; none more, none failed.
    assert Event.objects.count() == EVENTS
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    per_event = set(Event.objects.annotate(n=Count("runs")).values_list("event_type", "n"))
    assert per_event == {("load.one", 1), ("load.two", 2)}
    runs = Run.objects.all()
    assert runs.count() == expected_runs
    assert set(runs.values_list("status", flat=True)) == {"succeeded"}
    # Each run started once and finished once, as its stream says.
    for kind in ("run:start", "run:stop"):
        entries = StreamEntry.objects.filter(kind=kind).values("run_id").annotate(n=Count("id"))
        assert {row["n"] for row in entries} == {1}, kind
        assert len(entries) == expected_runs, kind
    for kind in ("run:fail", "run:retry", "run:cancel"):
        assert not StreamEntry.objects.filter(kind=kind).exists(), kind
    # Both slots worked, and the status counters agree with the rows.
    assert runs.values("worker").distinct().count() == 2
    assert run_counters_reconcile(environment_id=environment.pk) == {}
    deadlocks_after, sessions_after = database_stats()
    assert deadlocks_after == deadlocks_before
    # The worker keeps its connections across tasks (it used to open two per task).
    assert sessions_after - sessions_before < 40


def test_a_limit_of_one_run_holds_across_both_slots(api, environment, project, worker_queue):
    """With ``max_concurrent_runs`` 1, routing in one slot and a claim or a routing task in the
    other never start a second run while one runs: the environment's lock, taken by routing
    in the event's round trip (D79) and by every claim, serializes them. Every run still
    finishes once, the waiting ones pulled by the worker that finished before them."""
    deadlocks_before, _ = database_stats()
    expected_runs = publish_load(api, environment, events=60, max_concurrent_runs=1)

    spans = sorted(Run.objects.values_list("start_time", "stop_time"))
    assert len(spans) == expected_runs
    for (_, stopped), (started, _) in zip(spans, spans[1:], strict=False):
        assert stopped <= started, "two runs of the environment ran at the same time"
    for kind in ("run:start", "run:stop"):
        entries = StreamEntry.objects.filter(kind=kind).values("run_id").annotate(n=Count("id"))
        assert len(entries) == expected_runs and {row["n"] for row in entries} == {1}, kind
    assert run_counters_reconcile(environment_id=environment.pk) == {}
    assert database_stats()[0] == deadlocks_before
