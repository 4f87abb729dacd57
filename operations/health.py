"""Readiness checks: database, broker, build and file storage, a recent worker heartbeat.

Each check answers ``Check(name, ok, detail, fix)``: ``/readyz`` reports them and ``doctor``
prints them with the fix. A check never raises; its failure is its answer.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.utils import timezone

from builds.storage import build_storage
from files.storage import files_storage

from .models import WorkerHeartbeat

BROKER_TIMEOUT_SECONDS = 2


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    ms: float = 0.0

    def as_json(self) -> dict:
        data = {"ok": self.ok, "detail": self.detail, "ms": round(self.ms, 1)}
        if not self.ok and self.fix:
            data["fix"] = self.fix
        return data


def check_database() -> tuple[bool, str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return True, f"{connection.vendor} reachable", ""


def check_broker() -> tuple[bool, str, str]:
    from hotapi.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
        transport = conn.transport_cls
    return True, f"{transport} broker reachable", ""


def check_storage() -> tuple[bool, str, str]:
    """The build storage and the file storage (files and blobs) can be written."""
    for name, storage in (("build", build_storage()), ("file", files_storage())):
        if not isinstance(storage, FileSystemStorage):  # S3: a HEAD fails on credentials,
            storage.exists("readyz-probe")  # bucket or network
            continue
        folder = Path(storage.location)
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            return (
                False,
                f"the {name} storage folder is not writable",
                "make HOT_STORAGE_DIR writable by the service's user",
            )
    if settings.HOT_S3_BUCKET:
        return True, f"bucket {settings.HOT_S3_BUCKET} reachable", ""
    return True, "local build and file storage writable", ""


def check_worker() -> tuple[bool, str, str]:
    max_age = settings.HOT_READY_WORKER_MAX_AGE_SECONDS
    since = timezone.now() - timedelta(seconds=max_age)
    fresh = WorkerHeartbeat.objects.filter(last_seen_at__gte=since).count()
    if not fresh:
        return (
            False,
            f"no worker has reported in the last {max_age:g} s",
            "start a worker: celery -A hotapi worker (runhot starts one)",
        )
    return True, f"{fresh} worker(s) reporting", ""


CHECKS: dict[str, Callable[[], tuple[bool, str, str]]] = {
    "database": check_database,
    "broker": check_broker,
    "storage": check_storage,
    "worker": check_worker,
}

FIXES = {
    "database": "check DATABASE_URL and that the database server is up",
    "broker": "check CELERY_BROKER_URL / REDIS_URL and that the broker is up",
    "storage": "check HOT_S3_* (bucket, endpoint, credentials) or HOT_STORAGE_DIR",
    "worker": "start a worker: celery -A hotapi worker",
}


def run_check(name: str) -> Check:
    started = time.perf_counter()
    try:
        ok, detail, fix = CHECKS[name]()
    except Exception as exc:  # the failure is the answer; its type and text say why
        ok, detail, fix = False, f"{type(exc).__name__}: {exc}", FIXES[name]
    return Check(name, ok, detail, fix, (time.perf_counter() - started) * 1000)


def readiness() -> list[Check]:
    return [run_check(name) for name in CHECKS]
