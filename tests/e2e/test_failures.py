"""Failure handling across processes: a killed worker, an unavailable broker, races."""

import os
import signal
import threading
import uuid

import httpx
import pytest
from rest_framework.test import APIClient

from environments.services import api_key_issue
from events.models import Event
from runs.models import Run
from runs.routing import event_route, sweep_undispatched
from runs.services import reap_expired_leases
from tests.worker import WorkerProcess, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_worker_killed_mid_run_is_failed_by_the_lease(
    api, deployed, tmp_path, celery_queue, django_db_blocker
):
    """A solo-pool worker runs the task in its main process; SIGKILL it mid-run."""
    queue = f"kill-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(
        queue,
        tmp_path / "doomed.log",
        pool="solo",
        HOT_RUN_LEASE_SECONDS="2",
        HOT_CELERY_QUEUE=queue,
    )
    try:
        from hotapi.celery import app

        app.conf.task_default_queue = queue
        api.post("/v1/events", {"event_type": "slow.start", "event_data": {}}, format="json")
        run = wait_for(lambda: Run.objects.filter(status="running").first(), timeout=30)
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)
    finally:
        app.conf.task_default_queue = celery_queue
        worker.stop()

    def reaped():
        reap_expired_leases()
        return Run.objects.filter(pk=run.pk, status="failed").first()

    failed = wait_for(reaped, timeout=15, interval=0.5, message="the lease reaper")
    assert "lease expired" in failed.error and "stopped responding" in failed.error
    assert failed.result["$type"] == "::hot::run/Failure"
    assert api.get("/v1/runs/stats").json()["data"]["running"] == 0


def test_broker_outage_delays_but_loses_no_event(
    make_hot_server, celery_worker_process, deployed, environment
):
    """The web process cannot reach its broker: the event is still committed (201); the
    sweep routes it once the broker is back, and it runs."""
    server = make_hot_server(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    token = api_key_issue(environment=environment, name="outage").token
    response = httpx.post(
        f"{server.url}/v1/events",
        json={"event_type": "chat.start", "event_data": {"n": 7}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == 201
    event = Event.objects.get(pk=response.json()["data"]["event_id"])
    assert event.dispatched_at is None and not Run.objects.exists()

    assert sweep_undispatched(older_than_seconds=0) == 1  # as the periodic sweep would
    assert sweep_undispatched(older_than_seconds=0) == 0
    run = wait_for(lambda: Run.objects.filter(event=event, status="succeeded").first())
    assert run.result == {"done": True, "n": 7}
    assert Run.objects.filter(event=event).count() == 1


def test_concurrent_publishes_and_dispatches_lose_nothing(api, deployed):
    """Threads publish at once and every event is routed twice concurrently: exactly one run
    per event, none lost (run on PostgreSQL in CI)."""
    publishers, per_thread = 6, 5
    event_ids: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(publishers)

    def publish():
        from django.db import connection

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.token}")
        barrier.wait()
        try:
            for index in range(per_thread):
                response = client.post(
                    "/v1/events",
                    {"event_type": "chat.start", "event_data": {"n": index}},
                    format="json",
                )
                assert response.status_code == 201
                with lock:
                    event_ids.append(response.json()["data"]["event_id"])
        finally:
            connection.close()

    threads = [threading.Thread(target=publish) for _ in range(publishers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(event_ids) == publishers * per_thread

    def route_all():
        from django.db import connection

        try:
            for event_id in event_ids:
                try:
                    event_route(event_id=event_id)
                except Exception:  # the loser of a race may see the constraint; no duplicate
                    pass
        finally:
            connection.close()

    routers = [threading.Thread(target=route_all) for _ in range(2)]
    for thread in routers:
        thread.start()
    for thread in routers:
        thread.join(timeout=60)
    assert Event.objects.filter(dispatched_at__isnull=True).count() == 0
    assert Run.objects.count() == len(event_ids)
    assert set(Run.objects.values_list("event_id", flat=True)) == {
        uuid.UUID(event_id) for event_id in event_ids
    }
