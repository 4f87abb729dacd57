"""What the platform hands Hot code for I/O, behind ``PlatformHooks`` (runs/execution.py):
the run's log, outbound HTTP and TCP under the egress policy, the environment's stores, the
default embedding and the build's resources.

The run log keeps printed output and the runtime's own lines in order, bounded
(HOT_RUN_LOG_MAX_LINES lines of HOT_RUN_LOG_MAX_LINE_CHARS characters; past the cap one line
says how many were dropped), with every secret value masked. Lines are written in batches —
at most every FLUSH_SECONDS while the run works, and when it ends — as ``RunLog`` rows and as
``run:log`` entries of the run's stream, so subscribers see them live.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from events import streamlog
from hostio.egress import EgressPolicy
from hostio.embedding import embed
from hostio.http import HttpClient, HttpLimits
from hostio.resources import Resources
from hostio.tcp import connect

from .masking import mask_secrets
from .models import RunLog

FLUSH_SECONDS = 0.5
FLUSH_LINES = 100


def egress_policy() -> EgressPolicy:
    return EgressPolicy(allow=list(settings.HOT_EGRESS_ALLOW))


def http_client() -> HttpClient:
    return HttpClient(
        egress_policy(),
        HttpLimits(
            timeout=settings.HOT_HTTP_TIMEOUT_SECONDS,
            max_response_bytes=settings.HOT_HTTP_MAX_RESPONSE_BYTES,
            max_redirects=settings.HOT_HTTP_MAX_REDIRECTS,
        ),
    )


def tcp_connect(host, port, timeout, nodelay):
    return connect(egress_policy(), host, port, timeout, nodelay)


def default_embedding(texts):
    return [embed(text) for text in texts]


def bundle_resources(files: dict) -> Resources:
    return Resources(files)


class RunLogBuffer:
    """The run's log lines, kept in order and written in batches (see the module docstring).

    ``write`` is called from the run's threads; ``flush`` runs the database work through
    ``run_db`` (the hooks' database thread)."""

    def __init__(self, run, run_db, secrets):
        self.run = run
        self.run_db = run_db
        self.secrets = secrets  # callable: the secret values known so far
        self.lock = threading.Lock()
        self.pending: list[tuple] = []
        self.count = 0
        self.dropped = 0
        self.next_flush = time.monotonic() + FLUSH_SECONDS

    def write(self, level: str, message: str) -> None:
        text = str(message).rstrip("\n")
        limit = settings.HOT_RUN_LOG_MAX_LINE_CHARS
        if len(text) > limit:
            text = text[:limit] + f"… ({len(text) - limit} more characters)"
        with self.lock:
            if self.count >= settings.HOT_RUN_LOG_MAX_LINES:
                self.dropped += 1
                return
            self.pending.append((self.count, timezone.now(), level, text))
            self.count += 1
            due = len(self.pending) >= FLUSH_LINES or time.monotonic() >= self.next_flush
        if due:
            self.flush()

    def flush(self, final: bool = False) -> None:
        with self.lock:
            lines, self.pending = self.pending, []
            if final and self.dropped:
                lines.append(
                    (
                        self.count,
                        timezone.now(),
                        "warn",
                        f"log truncated: {self.dropped} more "
                        f"line(s) dropped (HOT_RUN_LOG_MAX_LINES={settings.HOT_RUN_LOG_MAX_LINES})",
                    )
                )
                self.dropped = 0
            self.next_flush = time.monotonic() + FLUSH_SECONDS
        if lines:
            self.run_db(self._save, lines)

    def _save(self, lines):
        secrets = self.secrets()
        rows = [
            RunLog(
                run_id=self.run.id,
                sequence=sequence,
                time=moment,
                level=level,
                message=mask_secrets(text, secrets),
            )
            for sequence, moment, level, text in lines
        ]
        entries = [
            streamlog.entry(
                environment_id=self.run.environment_id,
                stream_id=self.run.stream_id,
                kind="run:log",
                run_id=self.run.id,
                payload={
                    "run_id": str(self.run.id),
                    "sequence": row.sequence,
                    "time": row.time.isoformat(),
                    "level": row.level,
                    "message": row.message,
                },
            )
            for row in rows
        ]
        with transaction.atomic():  # one commit for the batch: the lines and their entries
            RunLog.objects.bulk_create(rows)
            streamlog.append_many(entries)


class OnThread:
    """A service whose every method call runs through ``run_db`` (the hooks' database thread:
    Django connections belong to the thread that opened them)."""

    def __init__(self, service, run_db):
        self._service = service
        self._run_db = run_db

    def __getattr__(self, name):
        method = getattr(self._service, name)
        return lambda *args, **kwargs: self._run_db(method, *args, **kwargs)
