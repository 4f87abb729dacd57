"""A worker's heartbeat: a thread in the worker's main process that records it every few
seconds until the worker shuts down (started from ``hotapi.celery``'s worker signals)."""

import logging
import os
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from .services import worker_heartbeat_record, worker_heartbeat_remove

log = logging.getLogger(__name__)


class HeartbeatThread(threading.Thread):
    def __init__(self, *, name: str, concurrency: int, queues: str):
        super().__init__(name="hot-heartbeat", daemon=True)
        self.node_name = name
        self.concurrency = concurrency
        self.queues = queues
        self.started_at = timezone.now()
        self._stopping = threading.Event()

    def run(self) -> None:
        try:
            while True:
                self._beat()
                if self._stopping.wait(settings.HOT_WORKER_HEARTBEAT_SECONDS):
                    break
            worker_heartbeat_remove(name=self.node_name)
        except Exception:  # the heartbeat must never take the worker down
            log.exception("Worker heartbeat stopped")
        finally:
            connection.close()

    def _beat(self) -> None:
        close_old_connections()
        try:
            worker_heartbeat_record(
                name=self.node_name,
                pid=os.getpid(),
                concurrency=self.concurrency,
                queues=self.queues,
                started_at=self.started_at,
            )
        except Exception:  # database briefly unavailable: try again next time
            log.warning("Could not record the worker heartbeat", exc_info=True)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)
