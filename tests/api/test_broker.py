"""The broker transports: the embedded filesystem broker never hands a consumer a
half-written message; the Redis one sends every message of a channel through one client.
And the Celery app reads its options from Django's ``CELERY_*`` settings."""

import threading

from django.conf import settings
from kombu import Connection, Queue

from hotapi.broker import RedisChannel, RedisTransport, Transport
from hotapi.celery import app as celery_app


def test_filesystem_urls_use_the_atomic_transport():
    with Connection("filesystem://") as connection:
        assert isinstance(connection.transport, Transport)


def test_concurrent_producer_and_consumer(tmp_path):
    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "store_processed": False,
        "control_folder": str(tmp_path / "control"),
    }
    (tmp_path / "control").mkdir()
    total = 400
    received: list[int] = []

    errors: list[BaseException] = []

    def produce():
        try:
            with Connection("filesystem://", transport_options=options) as connection:
                producer = connection.Producer()
                declare = [Queue("race")]
                for index in range(total):
                    producer.publish({"n": index}, routing_key="race", declare=declare)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    producer = threading.Thread(target=produce)
    producer.start()
    with Connection("filesystem://", transport_options=options) as connection:
        queue = connection.SimpleQueue("race")
        while len(received) < total and not errors:
            message = queue.get(timeout=10)
            received.append(message.payload["n"])
            message.ack()
        queue.close()
    producer.join()
    assert errors == []
    assert sorted(received) == list(range(total))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_redis_urls_use_the_transport_that_keeps_its_sending_client(redis_url):
    with Connection(redis_url) as connection:
        assert isinstance(connection.transport, RedisTransport)
        queue = connection.SimpleQueue(f"kept-client-{threading.get_ident()}")
        channel = queue.channel
        assert isinstance(channel, RedisChannel)
        for index in range(3):
            queue.put({"n": index})
        client = channel._create_client()
        assert channel._create_client() is client
        channel._after_fork()  # a forked worker gets a new pool, so a new client
        assert channel._create_client() is not client
        queue.put({"n": 3})
        received = []
        for _ in range(4):
            message = queue.get(timeout=5)
            received.append(message.payload["n"])
            message.ack()
        queue.clear()
        queue.close()
    assert received == [0, 1, 2, 3]


def test_the_celery_app_reads_the_django_celery_settings():
    conf = celery_app.conf
    assert conf.task_acks_late is settings.CELERY_TASK_ACKS_LATE is True
    assert conf.worker_prefetch_multiplier == settings.CELERY_WORKER_PREFETCH_MULTIPLIER
    assert conf.task_publish_retry_policy == settings.CELERY_TASK_PUBLISH_RETRY_POLICY
    assert conf.accept_content == settings.CELERY_ACCEPT_CONTENT
    assert conf.broker_url == settings.CELERY_BROKER_URL
    assert conf.task_default_rate_limit is None  # Celery's default where Django sets nothing
