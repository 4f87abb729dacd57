"""Preparation for the event/run/stream benchmarks, run as ``python -m bench._events_setup`` in
a child process with the service's environment (settings are read once per process).

Migrates, issues an API key for the ``bench`` environment, raises its hourly request quota and
``max_concurrent_runs`` so neither limit interferes, creates a project and, with ``--deploy``,
deploys (in process, like ``tests/e2e/conftest.py``) a build whose handler for ``bench.ping``
is trivial. ``--stream`` also creates a stream. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os

from bench._django_setup import prepare_bench_environment

MAX_RUNS = 1_000_000
EVENT_TYPE = "bench.ping"
SOURCE = """\
::bench::main ns

ping
meta {on-event: "bench.ping"}
fn (event) { {ok: true} }
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", default="bench-project")
    parser.add_argument("--deploy", action="store_true")
    parser.add_argument("--stream", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection, transaction

    from builds.services import build_upload, deploy_execute, deploy_request
    from events.models import Stream
    from projects.models import Project
    from tests import bundles

    token, environment = prepare_bench_environment(max_concurrent_runs=MAX_RUNS)
    project = Project.objects.create(environment=environment, name=args.project)
    result = {
        "token": token,
        "env_id": str(environment.pk),
        "project_id": str(project.pk),
        "vendor": connection.vendor,
        "event_type": EVENT_TYPE,
    }
    if args.deploy:
        data, bundle_hash = bundles.make_bundle(
            {bundles.DEFAULT_SOURCE_PATH: SOURCE},
            [bundles.Handler(EVENT_TYPE, "::bench::main/ping")],
            (),
        )
        with transaction.atomic():
            upload = build_upload(
                project=project,
                upload=SimpleUploadedFile("b.zip", data),
                client_hash=bundle_hash,
            )
            build = deploy_request(build=upload.build).build
        outcome = deploy_execute(build_id=build.pk, sequence=build.deployment_sequence)
        if outcome != "deployed":
            raise SystemExit(f"deploy failed: {outcome}")
        result["build_id"] = str(build.pk)
    if args.stream:
        result["stream_id"] = str(Stream.objects.create(environment=environment).pk)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
