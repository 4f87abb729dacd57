"""The embedded filesystem broker never hands a consumer a half-written message."""

import threading

from kombu import Connection, Queue

from hotapi.broker import Transport


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
