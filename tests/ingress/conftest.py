import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from builds.models import Build
from builds.services import build_upload, deploy_execute, deploy_request
from runs.models import Run
from tests.worker import wait_for

from .source import ingress_bundle


def deploy_ingress(project, **extra) -> Build:
    """Upload the webhook/MCP bundle and deploy it in-process."""
    data, bundle_hash = ingress_bundle(**extra)
    result = build_upload(
        project=project, upload=SimpleUploadedFile("b.zip", data), client_hash=bundle_hash
    )
    build = deploy_request(build=result.build).build
    assert deploy_execute(build_id=build.pk, sequence=build.deployment_sequence) == "deployed"
    return Build.objects.get(pk=build.pk)


@pytest.fixture
def deployed(project):
    return deploy_ingress(project)


@pytest.fixture
def hooks(deployed):
    """Webhook URL paths of the deployed build, by (service, path)."""
    return {
        (hook.service, hook.path): f"/webhook/default/testing/{hook.service}/"
        + "/".join(part for part in (hook.path, hook.token) if part)
        for hook in deployed.webhooks.all()
    }


@pytest.fixture(autouse=True)
def _quiet_before_teardown(request, environment):
    """A call the worker is still running (a timed-out one being cancelled) must end before
    the database is flushed for the next test (see tests/e2e/conftest.py)."""
    yield
    if "celery_worker_process" not in request.fixturenames:
        return
    wait_for(
        lambda: not Run.objects.filter(status__in=["queued", "running"]).exists(),
        timeout=20,
        message="the worker to finish the test's runs",
    )
