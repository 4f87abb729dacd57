"""Runs keep their promises under load and faults (PostgreSQL + Redis, bounded).

The service runs as in production, on a PostgreSQL cluster and a Redis server this test owns:
one web process, two worker processes, the maintenance loop. Clients publish a few hundred
events (each with an Idempotency-Key, retried on any failure) while the test SIGKILLs a worker,
kills Redis (nothing saved) and restarts PostgreSQL. An SSE client follows the environment and
resumes with Last-Event-ID. After the queue drains, the figures of issue 11 are read from the
database and the PostgreSQL log:

- zero lost events, zero duplicated events or runs;
- zero succeeded runs recorded as failed: every handler's lineage ends succeeded, and the only
  failed attempts are those whose worker was killed, each retried;
- zero deadlocks in the PostgreSQL log;
- runs of the killed worker ended within the lease bound;
- schedule firings unique per due time, each with one run;
- broker messages per run execution close to one (exactly one without faults: bench/);
- the SSE client saw every environment entry exactly once, in order.
"""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from tests import bundles
from tests.live import BASE_DIR, LiveServer, child_environment
from tests.pg_server import PostgresServer
from tests.redis_server import RedisServer
from tests.worker import MaintenanceProcess, WorkerProcess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="runs in the PostgreSQL + Redis pass of the suite (it starts its own servers)",
    ),
]

EVENTS = 240
PUBLISHERS = 4
PUBLISH_SECONDS = 36.0
LEASE_SECONDS = 5
REAPER_SECONDS = 1
ENV_KINDS = (
    "run:start",
    "run:stop",
    "run:fail",
    "run:cancel",
    "run:retry",
    "event:created",
    "event:handled",
)

SOURCE = """\
::app::main ns

one
meta {on-event: "load.one", retry: {attempts: 3, delay: 300}}
fn (event) { {n: event.data.n} }

two-a
meta {on-event: "load.two", retry: {attempts: 3, delay: 300}}
fn (event) { {a: event.data.n} }

two-b
meta {on-event: "load.two", retry: {attempts: 3, delay: 300}}
fn (event) { {b: event.data.n} }

countdown fn (n) { if(eq(n, 0), "done", countdown(sub(n, 1))) }

slow
meta {on-event: "load.slow", retry: {attempts: 3, delay: 300}}
fn (event) { {slow: countdown(1000000)} }

tick
meta {schedule: "*/2 * * * * *", retry: 3}
fn (event) { {tick: event.scheduled_at} }
"""
RETRY = {"attempts": 3, "delay": 300}
HANDLERS = [
    bundles.Handler("load.one", "::app::main/one", meta={"on-event": "load.one", "retry": RETRY}),
    bundles.Handler("load.two", "::app::main/two-a", meta={"on-event": "load.two", "retry": RETRY}),
    bundles.Handler("load.two", "::app::main/two-b", meta={"on-event": "load.two", "retry": RETRY}),
    bundles.Handler(
        "load.slow", "::app::main/slow", meta={"on-event": "load.slow", "retry": RETRY}
    ),
]
SLOW_EVENTS = 2  # published at the kill, so that the killed worker is surely running one
SCHEDULES = [
    bundles.Sched(
        "*/2 * * * * *", "::app::main/tick", meta={"schedule": "*/2 * * * * *", "retry": 3}
    )
]


class Stack:
    """The service's processes on the test's own PostgreSQL and Redis."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.postgres = PostgresServer()
        self.redis = RedisServer(tmp_path / "redis.log")
        self.database_url = self.postgres.create_database("hot_load")
        self.queue = f"load-{uuid.uuid4().hex[:8]}"
        self.env = {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            "HOT_CELERY_QUEUE": self.queue,
            "HOT_RUN_LEASE_SECONDS": str(LEASE_SECONDS),
            "HOT_REAPER_INTERVAL_SECONDS": str(REAPER_SECONDS),
            "HOT_SWEEP_INTERVAL_SECONDS": "1",
            "HOT_RUN_REDISPATCH_SECONDS": "10",
            "HOT_DB_POOL_MAX": "8",
        }
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=BASE_DIR,
            env=child_environment(**self.env),
            check=True,
            timeout=300,
        )
        self.token = (
            subprocess.run(
                [sys.executable, "manage.py", "createapikey", "--env", "load"],
                cwd=BASE_DIR,
                env=child_environment(**self.env),
                check=True,
                capture_output=True,
                text=True,
                timeout=60,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        self.web = LiveServer(tmp_path / "web.log", **self.env)
        self.workers = [self.start_worker(name) for name in ("a", "b")]
        self.maintenance = MaintenanceProcess(tmp_path / "maintenance.log", **self.env)

    def start_worker(self, name: str) -> WorkerProcess:
        return WorkerProcess(
            self.queue,
            self.tmp_path / f"worker-{name}-{time.monotonic_ns()}.log",
            concurrency=1,
            **self.env,
        )

    def kill_worker_mid_run(self, index: int) -> list:
        """SIGKILL a worker while one of its runs is running (after slow runs were published
        for it, or after 10 s regardless); returns the ids of the runs it was running."""
        worker = self.workers[index]
        children = Path(f"/proc/{worker.process.pid}/task/{worker.process.pid}/children")
        pids = children.read_text().split() if children.exists() else []
        names = [f"%:{pid}" for pid in pids] or ["-"]
        deadline = time.monotonic() + 10
        running = []
        while time.monotonic() < deadline and not running:
            running = self.sql(
                "SELECT id FROM runs_run WHERE status = 'running' AND worker LIKE ANY(%s)"
                " AND function = '::app::main/slow'",
                names,
            )
            time.sleep(0.005)
        worker.kill()
        return [row[0] for row in running]

    def redis_messages(self) -> int:
        """Messages the broker received (LPUSH) since this Redis started."""
        stats = subprocess.run(
            ["redis-cli", "-p", str(self.redis.port), "info", "commandstats"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
        for line in stats.splitlines():
            if line.startswith("cmdstat_lpush:"):
                return int(line.split("calls=")[1].split(",")[0])
        return 0

    def sql(self, query: str, *params):
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(query, params or None).fetchall()

    def stop(self):
        for process in (self.maintenance, *self.workers, self.web):
            try:
                process.stop()
            except Exception:  # already gone
                pass
        self.redis.stop()
        self.postgres.destroy()


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path)
    yield stack
    stack.stop()


def deploy(stack: Stack) -> None:
    client = httpx.Client(
        base_url=stack.web.url, headers={"Authorization": f"Bearer {stack.token}"}, timeout=30
    )
    assert client.post("/v1/projects", json={"name": "load"}).status_code == 201
    data, bundle_hash = bundles.make_bundle(
        {bundles.DEFAULT_SOURCE_PATH: SOURCE}, HANDLERS, SCHEDULES
    )
    upload = client.post(
        "/v1/projects/load/builds", files={"file": ("b.zip", data)}, data={"hash": bundle_hash}
    )
    assert upload.status_code == 201, upload.text
    build_id = upload.json()["data"]["build_id"]
    assert client.post(f"/v1/projects/load/builds/{build_id}/deploy").status_code == 200
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        build = client.get(f"/v1/projects/load/builds/{build_id}").json()["data"]
        if build["deployed"] and build["runtime_status"] == "ready":
            return
        time.sleep(0.2)
    raise AssertionError("the build was not deployed")


class Publishers:
    """Publish EVENTS events over PUBLISH_SECONDS from a few threads. Each event has its own
    Idempotency-Key and is sent again after any failure until the server accepts it."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.accepted: dict[str, str] = {}  # idempotency key -> event id
        self.failures = 0
        self.lock = threading.Lock()

    def publish(self, client: httpx.Client, n: int) -> None:
        key = f"load-{n}"
        event_type = "load.slow" if n >= EVENTS else "load.two" if n % 3 == 0 else "load.one"
        body = {"event_type": event_type, "event_data": {"n": n}}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                response = client.post("/v1/events", json=body, headers={"Idempotency-Key": key})
                if response.status_code == 201:
                    with self.lock:
                        self.accepted[key] = response.json()["data"]["event_id"]
                    return
            except httpx.HTTPError:
                pass
            with self.lock:
                self.failures += 1
            time.sleep(0.3)
        raise AssertionError(f"event {n} was never accepted")

    def run(self, started: float) -> None:
        def worker(offset: int):
            with httpx.Client(
                base_url=self.stack.web.url,
                headers={"Authorization": f"Bearer {self.stack.token}"},
                timeout=10,
            ) as client:
                for n in range(offset, EVENTS, PUBLISHERS):
                    due = started + n * PUBLISH_SECONDS / EVENTS
                    time.sleep(max(0.0, due - time.monotonic()))
                    self.publish(client, n)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(PUBLISHERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)


class EnvFollower(threading.Thread):
    """Follows /v1/env/subscribe, resuming with Last-Event-ID after every drop."""

    def __init__(self, stack: Stack):
        super().__init__(daemon=True)
        self.stack = stack
        self.ids: list[int] = []
        self.stopping = threading.Event()
        self.reconnects = 0
        self.resumes: list = []  # (time, last id) of each reconnection

    def run(self):
        while not self.stopping.is_set():
            headers = {"Authorization": f"Bearer {self.stack.token}", "Accept": "text/event-stream"}
            if self.ids:
                headers["Last-Event-ID"] = str(self.ids[-1])
                self.resumes.append((time.time(), self.ids[-1]))
            try:
                with httpx.stream(
                    "GET", f"{self.stack.web.url}/v1/env/subscribe", headers=headers, timeout=30
                ) as response:
                    for line in response.iter_lines():
                        if line.startswith("id: "):
                            self.ids.append(int(line[4:]))
                        if self.stopping.is_set():
                            return
            except httpx.HTTPError:
                time.sleep(0.3)
            self.reconnects += 1


def test_load_with_a_worker_kill_a_redis_outage_and_a_postgres_restart(stack):
    deploy(stack)
    follower = EnvFollower(stack)
    follower.start()
    publishers = Publishers(stack)
    started = time.monotonic()
    load = threading.Thread(target=publishers.run, args=(started,))
    load.start()

    def at(second: float) -> None:
        time.sleep(max(0.0, started + second - time.monotonic()))

    at(6)
    with httpx.Client(
        base_url=stack.web.url, headers={"Authorization": f"Bearer {stack.token}"}, timeout=10
    ) as client:
        for n in range(EVENTS, EVENTS + SLOW_EVENTS):
            publishers.publish(client, n)
    killed_runs = stack.kill_worker_mid_run(0)
    killed_at = time.time()
    at(10)
    stack.workers[0] = stack.start_worker("a2")
    at(15)
    messages_before_redis_stop = stack.redis_messages()
    stack.redis.stop()
    at(22)
    stack.redis.start()
    at(27)
    stack.postgres.stop()
    at(31)
    stack.postgres.start()
    load.join(timeout=240)
    assert len(publishers.accepted) == EVENTS + SLOW_EVENTS

    accepted = set(publishers.accepted.values())
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        (busy,) = stack.sql(
            "SELECT (SELECT count(*) FROM events_event WHERE dispatched_at IS NULL)"
            " + (SELECT count(*) FROM runs_run WHERE status IN"
            " ('queued', 'running', 'pending_retry'))"
        )[0]
        if busy == 0:
            break
        time.sleep(1)
    else:
        raise AssertionError("the work did not drain")
    messages = messages_before_redis_stop + stack.redis_messages()
    time.sleep(2)  # the SSE client catches up
    follower.stopping.set()

    # Events: none lost, none duplicated.
    events = dict(
        stack.sql("SELECT id::text, event_type FROM events_event WHERE event_type LIKE 'load.%%'")
    )
    assert set(events) == accepted and len(events) == EVENTS + SLOW_EVENTS

    # Runs: one lineage per (event, handler), each ending succeeded; the only failed attempts
    # are those of the killed worker, each followed by its retry.
    rows = stack.sql(
        "SELECT event_id::text, function, status, error, retry_attempt, stop_time"
        " FROM runs_run WHERE event_id::text = ANY(%s)",
        list(accepted),
    )
    lineages: dict = {}
    for event_id, function, status, error, attempt, stop_time in rows:
        lineages.setdefault((event_id, function), []).append((attempt, status, error, stop_time))
    expected_routes = sum(2 if events[e] == "load.two" else 1 for e in accepted)
    assert len(lineages) == expected_routes
    false_failures = []
    reaped = []
    for attempts in lineages.values():
        attempts.sort(key=lambda a: a[0])
        assert [a[0] for a in attempts] == list(range(len(attempts)))  # no duplicated attempt
        assert attempts[-1][1] == "succeeded", attempts
        for _, status, error, stop_time in attempts[:-1]:
            assert status == "failed"
            if "stopped responding" in error:
                reaped.append(stop_time)
            else:
                false_failures.append(error)
    assert false_failures == []

    # Runs of the killed worker ended within the lease bound (lease + reaper interval + slack).
    assert reaped, (
        killed_runs,
        stack.sql("SELECT status, error, worker FROM runs_run WHERE id = ANY(%s)", killed_runs),
    )
    bound = LEASE_SECONDS + REAPER_SECONDS + 3
    for stop_time in reaped:
        assert stop_time.timestamp() - killed_at <= bound

    # Schedules: one firing per due time (unique), each with exactly one first run, and every
    # tick's lineage succeeded.
    (fires, first_runs, due_times) = stack.sql(
        "SELECT (SELECT count(*) FROM runs_schedulefire),"
        " (SELECT count(*) FROM runs_run WHERE function = '::app::main/tick'"
        "  AND retry_attempt = 0),"
        " (SELECT count(DISTINCT (schedule_id, due_at)) FROM runs_schedulefire)"
    )[0]
    assert fires >= 10 and fires == first_runs == due_times
    (failed_ticks,) = stack.sql(
        "SELECT count(*) FROM runs_run r WHERE r.function = '::app::main/tick'"
        " AND r.status <> 'succeeded' AND NOT EXISTS"
        " (SELECT 1 FROM runs_run n WHERE n.origin_run_id = r.id AND n.retry_attempt > 0)"
    )[0]
    assert failed_ticks == 0

    # No deadlock, ever.
    log = stack.postgres.log()
    assert "deadlock detected" not in log, log[-4000:]

    # Broker messages per execution.
    (executions,) = stack.sql("SELECT count(*) FROM runs_run WHERE start_time IS NOT NULL")[0]
    ratio = messages / executions

    # SSE: every environment entry exactly once, in order, across reconnects.
    logged = [
        row[0]
        for row in stack.sql(
            "SELECT id FROM events_streamentry WHERE kind = ANY(%s) ORDER BY id", list(ENV_KINDS)
        )
    ]
    assert follower.ids == sorted(set(follower.ids))
    first, last = follower.ids[0], follower.ids[-1]
    expected_ids = [entry_id for entry_id in logged if first <= entry_id <= last]
    missing = sorted(set(expected_ids) - set(follower.ids))
    assert follower.ids == expected_ids, (
        missing,
        stack.sql(
            "SELECT id, kind, created_at FROM events_streamentry WHERE id = ANY(%s)", missing
        ),
        follower.resumes,
        killed_at,
    )
    (last_load_entry,) = stack.sql(
        "SELECT max(id) FROM events_streamentry WHERE kind = 'event:handled'"
        " AND payload->>'event_type' LIKE 'load.%%'"
    )[0]
    assert last >= last_load_entry  # it saw the load through to the end

    report = {
        "events": EVENTS,
        "publish_retries": publishers.failures,
        "run_executions": executions,
        "reaped_runs": len(reaped),
        "broker_messages": messages,
        "messages_per_execution": round(ratio, 3),
        "schedule_fires": fires,
        "sse_entries": len(follower.ids),
        "sse_reconnects": follower.reconnects,
        "deadlocks": log.count("deadlock detected"),
    }
    print("load-and-fault figures:", json.dumps(report))  # noqa: T201  (the test's report, -s)
    assert ratio <= 1.5, report
