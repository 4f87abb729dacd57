"""Waking the stream hubs of other processes: through Redis, from a thread of its own, so that
whoever appended to the log (a request, a run's commit) does not wait for Redis."""

import threading

import pytest
import redis

from events import streamlog
from events.hub import NOTIFY_CHANNEL
from tests.worker import wait_for


@pytest.fixture
def fresh_waker():
    streamlog._new_waker()
    yield
    streamlog._new_waker()


class GatedRedis:
    """Stands in for the Redis client: each publish waits at a gate the test opens."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.threads: list[str] = []

    def publish(self, channel, message) -> None:
        self.threads.append(threading.current_thread().name)
        self.entered.set()
        self.gate.wait(timeout=10)


def test_the_appender_does_not_wait_and_wake_ups_asked_meanwhile_go_out_as_one(
    settings, monkeypatch, fresh_waker
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # never dialled: the client is replaced
    fake = GatedRedis()
    monkeypatch.setattr(streamlog, "redis_client", lambda: fake)
    streamlog.notify_appended()  # returns while its publish is held at the gate
    assert fake.entered.wait(timeout=10)
    for _ in range(10):
        streamlog.notify_appended()
    assert len(fake.threads) == 1
    fake.gate.set()
    wait_for(lambda: len(fake.threads) == 2, timeout=10, message="the second wake-up")
    assert fake.threads == ["hot-stream-waker"] * 2
    streamlog.notify_appended()  # a later append is a new wake-up
    wait_for(lambda: len(fake.threads) == 3, timeout=10, message="the third wake-up")


def test_a_wake_up_reaches_a_subscriber_through_redis(redis_url, fresh_waker):
    subscriber = redis.Redis.from_url(redis_url).pubsub()
    subscriber.subscribe(NOTIFY_CHANNEL)
    assert subscriber.get_message(timeout=5)["type"] == "subscribe"
    streamlog.notify_appended()
    message = subscriber.get_message(timeout=5)
    assert message is not None and message["channel"] == NOTIFY_CHANNEL.encode()
    subscriber.close()


def test_a_failed_publish_pauses_wake_ups_and_is_not_the_appenders_problem(
    settings, monkeypatch, fresh_waker, caplog
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    calls = []

    class Down:
        def publish(self, channel, message):
            calls.append(message)
            raise redis.ConnectionError("refused")

    monkeypatch.setattr(streamlog, "redis_client", lambda: Down())
    streamlog.notify_appended()
    wait_for(lambda: calls, timeout=10, message="the publish attempt")
    wait_for(lambda: streamlog._waker.retry_at > 0, timeout=10, message="the pause")
    streamlog.notify_appended()  # within the pause: not tried (each try would wait a timeout)
    waker = streamlog._waker
    wait_for(lambda: not waker._asked.is_set(), timeout=10, message="the waker to look")
    assert len(calls) == 1
    assert "Could not publish a stream wake-up" in caplog.text
