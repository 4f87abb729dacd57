"""Fuzz the whole OpenAPI document with schemathesis against a live server (every check).

The server runs as users run it (uvicorn, DEBUG off) on the test database, seeded with one of
everything, so path parameters reach real objects: a project with a deployed build, a context
variable, an event with a finished run on its stream. Operations other branches add are covered
as soon as they are in the schema; only their path parameters may want a seeded value below.

Deselected from the ordinary suite (``-m fuzz`` runs it; ``.ci/run`` does, on PostgreSQL and
Redis). Bounded: ``HOT_FUZZ_MAX_EXAMPLES`` cases per operation and phase (default 25).
"""

import os
import subprocess
import sys
from io import BytesIO

import httpx
import pytest
from django.conf import settings

from domains.services import domain_create
from environments.services import api_key_issue, service_key_create, session_create
from events.services import EventSource, event_publish
from files.models import Blob
from files.services import file_write, upload_initiate
from runs.execution import execute_run
from runs.routing import event_route
from secrets_app.services import context_create
from tasks.models import Task
from tests.e2e.conftest import deploy_source
from tests.live import BASE_DIR

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.fuzz]

MAX_EXAMPLES = os.environ.get("HOT_FUZZ_MAX_EXAMPLES", "25")
SEED = os.environ.get("HOT_FUZZ_SEED", "4242")


def _seed(environment) -> dict[str, str]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from builds.services import build_upload
    from projects.models import Project
    from tests import bundles

    project = Project.objects.create(environment=environment, name="fuzz")
    doomed = Project.objects.create(environment=environment, name="doomed")
    context_create(project=project, key="API_SECRET", value="fuzz-secret-value-1")
    build = deploy_source(project)
    data, bundle_hash = bundles.make_bundle()
    build_upload(
        project=project,
        upload=SimpleUploadedFile("live.zip", data),
        client_hash=bundle_hash,
        build_type="live",
    )
    event = event_publish(
        environment=environment,
        event_type="user.signup",
        event_data={"email": "fuzz@example.com"},
        source=EventSource.CLIENT,
    )
    (run_id,) = event_route(event_id=event.pk)
    execute_run(run_id=run_id)
    issuer = api_key_issue(environment=environment, name="fuzz-issuer").api_key
    session = session_create(api_key=issuer, permissions={"stream:*": ["read"]}).session
    service_key = service_key_create(api_key=issuer, permissions={"event:*": ["create"]})
    domain = domain_create(environment=environment, domain="hooks.fuzz.example")
    file = file_write(environment_id=environment.pk, path="fuzz/seed.txt", source=BytesIO(b"x"))
    upload = upload_initiate(environment_id=environment.pk, path="fuzz/parts.bin")
    big = event_publish(
        environment=environment,
        event_type="doc.added",
        event_data={"body": "x" * (settings.HOT_BLOB_THRESHOLD_BYTES + 1)},
        source=EventSource.CLIENT,
    )
    blob = Blob.objects.get(environment=environment, source="event_data")
    task = Task.objects.create(
        environment=environment,
        stream_id=event.stream_id,
        function_name="::app::main/on-signup",
        timeout_ms=1000,
        status="completed",
    )
    assert big.pk and blob.pk
    # Projects by id: a rename (PATCH) keeps them reachable.
    return {
        "project_ref": str(project.pk),
        "ref": str(project.pk),
        "doomed_ref": str(doomed.pk),
        "key": "API_SECRET",
        "build_id": str(build.pk),
        "event_id": str(event.pk),
        "stream_id": str(event.stream_id),
        "run_id": str(run_id),
        "session_id": str(session.pk),
        "service_key_id": str(service_key.service_key.pk),
        "domain_id": str(domain.pk),
        "file_id": str(file.pk),
        "file_path": "fuzz/written.txt",
        "upload_id": str(upload.pk),
        "part_number": "1",
        "blob_id": str(blob.pk),
        "task_id": str(task.pk),
    }


def _config(values: dict[str, str]) -> str:
    lines = [
        # Every run starts afresh: no state learnt by earlier runs (against another schema).
        "[cache]",
        "enabled = false",
        "",
        # JSON strings with NUL are refused everywhere (hotapi.jsonvalues), which a schema
        # cannot say of free-form values such as event_data; and unknown query parameters are
        # ignored, which OpenAPI cannot say at all. Both are documented in docs/api.md.
        "[generation]",
        "allow-x00 = false",
        "allow-extra-parameters = false",
        "",
        "[parameters]",
    ]
    doomed = values.pop("doomed_ref")
    lines += [f'"path.{name}" = "{value}"' for name, value in values.items()]
    # Deleting the seeded project would turn every later case into a 404.
    lines += [
        "",
        "[[operations]]",
        'include-operation-id = "projects_destroy"',
        "[operations.parameters]",
        f'"path.project_ref" = "{doomed}"',
        # No schema can say "a valid Hot bundle whose hash matches": random files are refused
        # with 400 naming the reason, which is the right answer (tests/builds cover uploads).
        "",
        "[[operations]]",
        'include-operation-id = "projects_builds_create"',
        "[operations.checks.positive_data_acceptance]",
        "expected-statuses = [200, 201, 400]",
    ]
    # Which actions each resource type takes (a permission map) and what makes a host name (its
    # labels, not an IP address) are checked by the service with a message naming the rule; the
    # schema says the shape (a map of lists of strings, a string of at most 253 characters).
    for operation_id in ("sessions_create", "service_keys_create", "domains_create"):
        lines += [
            "",
            "[[operations]]",
            f'include-operation-id = "{operation_id}"',
            "[operations.checks.positive_data_acceptance]",
            "expected-statuses = [200, 201, 400, 409, 429]",
        ]
    return "\n".join(lines) + "\n"


def test_schemathesis_finds_nothing(make_hot_server, environment, tmp_path):
    values = _seed(environment)
    # No limits: the fuzzer sends thousands of requests, many at once.
    environment.requests_per_hour = 0
    environment.requests_per_second = 0
    environment.save(update_fields=["requests_per_hour", "requests_per_second"])
    token = api_key_issue(environment=environment, name="fuzz").token
    server = make_hot_server(
        HOT_SSE_STREAM_SECONDS="1",
        HOT_SSE_HEARTBEAT_SECONDS="0.5",
        HOT_UNAUTHENTICATED_REQUESTS_PER_HOUR="0",  # it also sends requests without a key
        HOT_SSE_MAX_STREAMS_PER_KEY="0",
        # Domain verification looks DNS up: only on loopback, where nothing answers.
        HOT_DNS_NAMESERVERS="127.0.0.1:9",
        HOT_DNS_TIMEOUT_SECONDS="0.5",
    )
    schema = tmp_path / "openapi.json"
    schema.write_bytes(httpx.get(f"{server.url}/v1/openapi.json").content)
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(values))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "run",
            str(schema),
            "--url",
            server.url,
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            MAX_EXAMPLES,
            *os.environ.get("HOT_FUZZ_ARGS", "").split(),
            "--seed",
            SEED,
            # One worker: with two threads, Hypothesis parsing its lambdas' source crashed the
            # run with "SystemError: AST constructor recursion depth mismatch", a CPython 3.11
            # fault of the AST's shared depth counter seen in threaded programs (gh-106905).
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--no-color",
            "--output-truncate",
            "false",
            "--suppress-health-check",
            "all",
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    report = result.stdout[-20000:] + result.stderr[-5000:]
    # The whole report and the schema it ran on stay in the data dir for whoever investigates.
    (settings.DATA_DIR / "schemathesis-last.txt").write_text(result.stdout + result.stderr)
    (settings.DATA_DIR / "schemathesis-openapi.json").write_bytes(schema.read_bytes())
    assert result.returncode == 0, report
