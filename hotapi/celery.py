"""The Celery app. Broker: ``filesystem://`` under the data dir by default, Redis by setting.

Signals wired here: the serving-configuration check and the heartbeat when a worker starts,
and the request id, which travels in a message header from the request that enqueued a task
to the task's log lines (and to anything the task enqueues in turn).
"""

import os
from collections.abc import Iterator, Mapping

from celery import Celery
from celery.signals import (
    before_task_publish,
    task_postrun,
    task_prerun,
    worker_init,
    worker_ready,
    worker_shutdown,
)

from .broker import install as install_broker_transports

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
install_broker_transports()


class CelerySettings(Mapping):
    """Django's ``CELERY_*`` settings as a plain mapping, read on first use.

    Celery looks its options up by name on every message it sends (seven names per task sent),
    trying each spelling against each of its sources. Against Django's settings object each
    miss raises ``AttributeError`` and is not remembered: 24 misses per task sent, about
    45 µs of the 460 µs of CPU an ``apply_async`` took (bench/README.md). Read once into a
    dict, a lookup is a dict lookup. Celery keeps later changes (``app.conf.x = …``) in a map
    of its own, as before; settings changed in Django after the first task no longer reach it.
    """

    def __init__(self) -> None:
        self._values: dict[str, object] | None = None

    def _settings(self) -> dict[str, object]:
        if self._values is None:
            from django.conf import settings

            self._values = {
                name: getattr(settings, name)
                for name in dir(settings)
                if name.startswith("CELERY_")
            }
        return self._values

    def __getitem__(self, name: str) -> object:
        return self._settings()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._settings())

    def __len__(self) -> int:
        return len(self._settings())


app = Celery("hotapi")
app.config_from_object(CelerySettings(), namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _check_configuration(**kwargs) -> None:
    from hotapi.checks import ensure_serving_configuration

    ensure_serving_configuration()


REQUEST_ID_HEADER = "hot_request_id"
_request_id_tokens: dict[str, object] = {}
_heartbeat = None


@before_task_publish.connect
def _send_request_id(headers=None, **kwargs) -> None:
    from hotapi.api.middleware import current_request_id

    request_id = current_request_id()
    if headers is not None and request_id:
        headers[REQUEST_ID_HEADER] = request_id


@task_prerun.connect
@task_postrun.connect
def _keep_usable_connections(task=None, **kwargs) -> None:
    """Celery's own closing of connections around tasks is off (``CELERY_DB_REUSE_MAX`` in
    settings): connections are kept across tasks, and broken ones dropped here."""
    if task is not None and not getattr(task.request, "is_eager", False):
        from hotapi.db import keep_usable_connections

        keep_usable_connections()


@task_prerun.connect
def _bind_request_id(task_id=None, task=None, **kwargs) -> None:
    from hotapi.api.middleware import bind_request_id

    _request_id_tokens[task_id] = bind_request_id(getattr(task.request, REQUEST_ID_HEADER, None))


@task_postrun.connect
def _unbind_request_id(task_id=None, **kwargs) -> None:
    from hotapi.api.middleware import unbind_request_id

    token = _request_id_tokens.pop(task_id, None)
    if token is not None:
        unbind_request_id(token)


@worker_ready.connect
def _start_heartbeat(sender=None, **kwargs) -> None:
    from operations.heartbeat import HeartbeatThread

    global _heartbeat
    consumer = sender  # the worker's consumer: its node name, pool and queues
    queues = ",".join(
        sorted(queue.name for queue in consumer.app.amqp.queues.consume_from.values())
    )
    _heartbeat = HeartbeatThread(
        name=consumer.hostname, concurrency=consumer.pool.limit or 0, queues=queues
    )
    _heartbeat.start()


@worker_shutdown.connect
def _stop_heartbeat(**kwargs) -> None:
    if _heartbeat is not None:
        _heartbeat.stop()
