"""Maintenance commands: reconcile_run_counters, gc_build_storage, doctor."""

import os
import time
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from builds.services import build_upload
from builds.storage import build_storage
from operations.models import WorkerHeartbeat
from runs.models import Run
from runs.selectors import run_stats
from runs.services import run_create
from secrets_app.models import ContextVariable
from secrets_app.services import context_create
from tests import bundles

pytestmark = pytest.mark.django_db


def _run(environment, project):
    from events.models import Stream

    stream = Stream.objects.create(environment=environment)
    return run_create(
        environment_id=environment.pk,
        stream_id=stream.pk,
        run_type="call",
        function="::app::main/f",
        args=[],
        route_key=f"k{time.monotonic_ns()}",
        project_id=project.pk,
    )


def _call(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_reconcile_fixes_counters_after_rows_changed_behind_the_services(environment, project):
    runs = [_run(environment, project) for _ in range(3)]
    Run.objects.filter(pk=runs[0].pk).delete()  # by hand, not through a service
    Run.objects.filter(pk=runs[1].pk).update(status="failed")
    assert run_stats(environment=environment)["queued"] == 3
    output = _call("reconcile_run_counters")
    assert "queued 3 → 1" in output and "failed 0 → 1" in output
    stats = run_stats(environment=environment)
    assert (stats["queued"], stats["failed"], stats["total_runs"]) == (1, 1, 2)
    assert "correct" in _call("reconcile_run_counters", "--env", "testing")
    with pytest.raises(CommandError, match="No environment named 'nope'"):
        call_command("reconcile_run_counters", "--env", "nope")


def test_gc_build_storage_deletes_old_orphans_only(project):
    data, bundle_hash = bundles.make_bundle()
    build = build_upload(
        project=project, upload=SimpleUploadedFile("b.zip", data), client_hash=bundle_hash
    ).build
    storage = build_storage()
    old = storage.save("x/old-orphan.hot.zip", SimpleUploadedFile("o", b"zip"))
    recent = storage.save("x/new-orphan.hot.zip", SimpleUploadedFile("n", b"zip"))
    two_hours_ago = time.time() - 7200
    os.utime(storage.path(old), (two_hours_ago, two_hours_ago))

    dry = _call("gc_build_storage", "--dry-run")
    assert f"would delete {old}" in dry and "nothing deleted" in dry and "1 too recent" in dry
    assert storage.exists(old)
    done = _call("gc_build_storage")
    assert f"deleted {old}" in done and "3 stored file(s)" in done
    assert not storage.exists(old) and storage.exists(recent)
    assert storage.exists(build.storage_key)
    with pytest.raises(CommandError, match="at least 1"):
        call_command("gc_build_storage", "--min-age-minutes", "0")


def test_doctor_names_each_problem_and_its_fix(settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    out = StringIO()
    with pytest.raises(CommandError, match="problem"):
        call_command("doctor", stdout=out)
    text = out.getvalue()
    assert "FAIL allowed hosts" in text and "FAIL worker" in text
    assert "fix: start a worker" in text
    assert "ok   database" in text and "ok   migrations" in text


def test_doctor_passes_a_sound_configuration(settings, project):
    settings.ALLOWED_HOSTS = ["api.example.com"]
    settings.HOT_SECRET_KEY_GENERATED = False
    context_create(project=project, key="TOKEN", value="s3cret")
    now = timezone.now()
    WorkerHeartbeat.objects.create(name="w@h", pid=1, started_at=now, last_seen_at=now)
    assert "Everything checked is in order." in _call("doctor")


def test_doctor_catches_values_sealed_by_an_unknown_key(settings, project):
    context_create(project=project, key="TOKEN", value="s3cret")
    ContextVariable.objects.update(key_id="0123456789abcdef")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("doctor", stdout=out)
    assert "sealed by keys that are not configured: 0123456789abcdef" in out.getvalue()


def test_a_worker_silent_for_a_day_is_forgotten_when_another_reports():
    from datetime import timedelta

    from operations.services import worker_heartbeat_record

    long_ago = timezone.now() - timedelta(days=2)
    WorkerHeartbeat.objects.create(
        name="killed@h", pid=1, started_at=long_ago, last_seen_at=long_ago
    )
    worker_heartbeat_record(
        name="alive@h", pid=2, concurrency=4, queues="celery", started_at=long_ago
    )
    assert list(WorkerHeartbeat.objects.values_list("name", flat=True)) == ["alive@h"]
