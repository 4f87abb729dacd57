"""The Celery app. Broker: ``filesystem://`` under the data dir by default, Redis by setting.

Signals wired here: the serving-configuration check and the heartbeat when a worker starts,
and the request id, which travels in a message header from the request that enqueued a task
to the task's log lines (and to anything the task enqueues in turn).
"""

import os

from celery import Celery
from celery.signals import (
    before_task_publish,
    task_postrun,
    task_prerun,
    worker_init,
    worker_ready,
    worker_shutdown,
)

from .broker import install as install_atomic_filesystem_broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
install_atomic_filesystem_broker()

app = Celery("hotapi")
app.config_from_object("django.conf:settings", namespace="CELERY")
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
