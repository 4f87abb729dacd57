import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from builds.models import Build
from builds.services import build_upload, deploy_execute, deploy_request

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
