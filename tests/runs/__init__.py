"""Helpers shared by the events and runs suites: upload a real bundle and deploy it in-process
(no worker), and build small Hot programs."""

import hashlib
import threading

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from builds.models import Build
from builds.services import deploy_execute, deploy_request
from runs.scheduler import scheduler_tick
from tests import bundles

SOURCE_PATH = bundles.DEFAULT_SOURCE_PATH


def upload(api, data: bytes, project: str = "billing") -> str:
    form = {"file": SimpleUploadedFile("b.zip", data), "hash": hashlib.sha256(data).hexdigest()}
    response = api.post(f"/v1/projects/{project}/builds", form, format="multipart")
    assert response.status_code == 201, response.json()
    return response.json()["data"]["build_id"]


def deploy(api, data: bytes | None = None, project: str = "billing") -> Build:
    """Upload ``data`` (the default bundle when None) and deploy it in-process."""
    if data is None:
        data, _ = bundles.make_bundle()
    build = Build.objects.get(pk=upload(api, data, project))
    build = deploy_request(build=build).build
    outcome = deploy_execute(build_id=build.pk, sequence=build.deployment_sequence)
    build.refresh_from_db()
    assert outcome == "deployed", build.runtime_error
    return build


def hot_bundle(source: str, handlers=(), schedules=()) -> bytes:
    """A bundle of one source file ``::app::main`` with the given handlers and schedules,
    given as (event_type, var[, once]) and (cron, var)."""
    data, _ = bundles.make_bundle(
        {SOURCE_PATH: source},
        [
            bundles.Handler(event_type, f"::app::main/{var}", once=bool(rest and rest[0]))
            for event_type, var, *rest in handlers
        ],
        [bundles.Sched(cron, f"::app::main/{var}") for cron, var in schedules],
    )
    return data


def tick_twice_at_once(now) -> list[int]:
    """Two schedulers tick at the same moment, each on its own connection; returns how many
    schedules each fired, sorted (exactly-once firing gives ``[0, n]``)."""
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def tick():
        try:
            barrier.wait(timeout=10)
            results.append(scheduler_tick(now=now))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return sorted(results)
