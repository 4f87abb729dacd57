"""Redis is not a single point of failure: with the broker, the rate-limit counters and the
stream wake-ups all on one Redis that is killed (nothing saved), the API keeps answering, SSE
keeps delivering by polling, and once Redis is back every accepted event gets its run, once.
"""

import json
import threading
import time
import uuid

import httpx
import pytest

from environments.services import api_key_issue
from events.models import Event
from runs.models import Run
from tests.redis_server import RedisServer
from tests.worker import MaintenanceProcess, WorkerProcess, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis.log")
    yield server
    server.stop()


class EnvEvents(threading.Thread):
    """Follows /v1/env/subscribe and records the events it receives."""

    def __init__(self, url: str, token: str):
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.received: list[dict] = []
        self.ready = threading.Event()

    def run(self):
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        try:
            with httpx.stream(
                "GET", f"{self.url}/v1/env/subscribe", headers=headers, timeout=60
            ) as response:
                self.ready.set()
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        self.received.append(json.loads(line[6:]))
        except httpx.HTTPError:
            return  # the server stopped at the end of the test

    def created(self) -> set[str]:
        return {e["event_id"] for e in self.received if e["type"] == "event:created"}


def test_api_stays_up_while_redis_is_down_and_nothing_is_lost(
    make_hot_server, deployed, environment, redis_server, tmp_path
):
    queue = f"outage-{uuid.uuid4().hex[:8]}"
    env = {
        "REDIS_URL": redis_server.url,
        "HOT_CELERY_QUEUE": queue,
        "HOT_SWEEP_INTERVAL_SECONDS": "1",
    }
    server = make_hot_server(**env)
    worker = WorkerProcess(queue, tmp_path / "worker.log", **env)
    loop = MaintenanceProcess(tmp_path / "maintenance.log", **env)
    token = api_key_issue(environment=environment, name="outage").token
    headers = {"Authorization": f"Bearer {token}"}
    follower = EnvEvents(server.url, token)
    follower.start()
    assert follower.ready.wait(timeout=10)

    def publish(n: int) -> httpx.Response:
        return httpx.post(
            f"{server.url}/v1/events",
            json={"event_type": "chat.start", "event_data": {"n": n}},
            headers=headers,
            timeout=10,
        )

    try:
        accepted = [publish(0).json()["data"]["event_id"]]
        redis_server.stop()
        started = time.monotonic()
        for n in range(1, 11):
            response = publish(n)
            assert response.status_code == 201, response.text
            accepted.append(response.json()["data"]["event_id"])
        assert httpx.get(f"{server.url}/v1/env", headers=headers, timeout=10).status_code == 200
        assert time.monotonic() - started < 10  # no request waits long for Redis
        # The stream hub polls meanwhile: the subscriber still sees every event.
        wait_for(lambda: set(accepted) <= follower.created(), timeout=15, message="SSE")
        time.sleep(2)  # the broker stays down a little longer
        redis_server.start()

        def all_ran():
            runs = Run.objects.filter(event_id__in=accepted, status="succeeded")
            return runs.count() == len(accepted)

        wait_for(all_ran, timeout=60, interval=0.5, message="every accepted event to run")
    finally:
        loop.stop()
        worker.stop()
    assert Event.objects.filter(pk__in=accepted, dispatched_at__isnull=True).count() == 0
    per_event = {str(event_id) for event_id in Run.objects.values_list("event_id", flat=True)}
    assert per_event == set(accepted)
    assert Run.objects.filter(event_id__in=accepted).count() == len(accepted)
