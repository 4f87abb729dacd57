"""A deployed project whose Hot code exercises the runtime: results, send(), stream output,
context variables, and runaway code."""

import pytest

from builds.models import Build
from builds.services import deploy_execute, deploy_request
from projects.models import Project
from secrets_app.services import context_create
from tests import bundles

SOURCE = """\
::app::main ns

on-signup
meta {on-event: "user.signup"}
fn (event) {
  user event.data
  send("email.welcome", {to: user.email})
  {welcomed: user.email}
}

on-welcome
meta {on-event: "email.welcome"}
fn (event) {
  {sent: event.data.to}
}

chatty
meta {on-event: "chat.start"}
fn (event) {
  ::hot::stream/data({text: "hello "})
  ::hot::stream/data({text: "world"})
  token ::hot::ctx/get("API_TOKEN")
  {done: true, n: event.data.n}
}

add-numbers fn (a, b) { add(a, b) }

spin fn (n) { spin(add(n, 1)) }

slow
meta {on-event: "slow.start"}
fn (event) { spin(0) }

deep fn (n) { add(1, deep(add(n, 1))) }

recurse
meta {on-event: "deep.start"}
fn (event) { deep(0) }

failing
meta {on-event: "fail.start"}
fn (event) { fail("nope", {code: 7}) }
"""

HANDLERS = [
    bundles.Handler("user.signup", "::app::main/on-signup"),
    bundles.Handler("email.welcome", "::app::main/on-welcome"),
    bundles.Handler("chat.start", "::app::main/chatty"),
    bundles.Handler("slow.start", "::app::main/slow"),
    bundles.Handler("deep.start", "::app::main/recurse"),
    bundles.Handler("fail.start", "::app::main/failing"),
]
SECRET = "tok-very-secret-123"


def deploy_source(
    project: Project, source: str = SOURCE, handlers=HANDLERS, schedules=(), resources=None
):
    """Upload-equivalent plus an in-process deploy, so tests start from a ready build."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from builds.services import build_upload

    data, bundle_hash = bundles.make_bundle(
        {bundles.DEFAULT_SOURCE_PATH: source}, handlers, schedules, resources=resources
    )
    result = build_upload(
        project=project,
        upload=SimpleUploadedFile("b.zip", data),
        client_hash=bundle_hash,
    )
    build = deploy_request(build=result.build).build
    assert deploy_execute(build_id=build.pk, sequence=build.deployment_sequence) == "deployed"
    return Build.objects.get(pk=build.pk)


@pytest.fixture
def deployed(project):
    context_create(project=project, key="API_TOKEN", value=SECRET)
    return deploy_source(project)


@pytest.fixture(autouse=True)
def _quiet_before_teardown(request, environment):
    """Work a test started in other processes (chained runs, say) must end before the database
    is flushed for the next test; otherwise the flush and a worker's transaction can deadlock.
    (It depends on ``environment`` so that it is torn down before the database is.)"""
    yield
    if "celery_worker_process" not in request.fixturenames:
        return
    import time

    from django.db import close_old_connections

    from events.models import Event
    from runs.models import Run

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        close_old_connections()
        busy = (
            Run.objects.filter(status__in=["queued", "running"]).exists()
            or Event.objects.filter(dispatched_at__isnull=True).exists()
        )
        if not busy:
            return
        time.sleep(0.1)
