"""Deploys through a real Celery worker process."""

import hashlib
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from builds.models import Build, RuntimeStatus
from builds.services import deploy_execute, deploy_request
from tests import bundles
from tests.worker import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

URL = "/v1/projects/billing/builds"

BROKEN_SOURCE = '::app::main ns\n\non-signup\nmeta {on-event: "user.signup"}\nfn (event) {\n'


def upload(api, data=None, **fields):
    if data is None:
        data, _ = bundles.make_bundle()
    form = {
        "file": SimpleUploadedFile("b.zip", data),
        "hash": hashlib.sha256(data).hexdigest(),
        **fields,
    }
    response = api.post(URL, form, format="multipart")
    assert response.status_code in (200, 201), response.json()
    return response.json()["data"]["build_id"]


def settled(build_id):
    build = Build.objects.get(pk=build_id)
    if build.runtime_status in (RuntimeStatus.PENDING, RuntimeStatus.LOADING):
        return None
    return build


def test_deploy_pending_then_ready(api, project, celery_worker_process):
    build_id = upload(api)
    response = api.post(f"{URL}/{build_id}/deploy")
    assert response.status_code == 200
    body = response.json()["data"]
    assert body["runtime_status"] == "pending" and body["deployed"] is False
    assert body["deployment_sequence"] == 1
    build = wait_for(lambda: settled(build_id), message="deploy to settle")
    assert build.runtime_status == "ready" and build.deployed, celery_worker_process.output()
    deployed = api.get(f"{URL}/deployed").json()["data"]
    assert deployed["build_id"] == build_id
    handlers = api.get("/v1/projects/billing/event-handlers").json()["data"]
    assert [(h["event_type"], h["ns"], h["var"]) for h in handlers] == [
        ("user.signup", "::app::main", "on-signup")
    ]
    assert handlers[0]["build_id"] == build_id and handlers[0]["line"]
    schedules = api.get("/v1/projects/billing/schedules").json()["data"]
    assert schedules[0]["cron"] == "every day at 2:00 am"
    assert schedules[0]["next_fire_at"].endswith("Z")


def test_failed_deploy_keeps_the_old_build(api, project, celery_worker_process):
    good = upload(api)
    api.post(f"{URL}/{good}/deploy")
    wait_for(lambda: settled(good))
    broken, _ = bundles.make_bundle(
        {bundles.DEFAULT_SOURCE_PATH: BROKEN_SOURCE},
        [bundles.Handler("user.signup", "::app::main/on-signup")],
    )
    bad = upload(api, broken)
    api.post(f"{URL}/{bad}/deploy")
    failed = wait_for(lambda: settled(bad))
    assert failed.runtime_status == "failed" and not failed.deployed
    assert "main.hot" in failed.runtime_error
    assert api.get(f"{URL}/{bad}").json()["data"]["runtime_error"] == failed.runtime_error
    assert api.get(f"{URL}/deployed").json()["data"]["build_id"] == good


def test_redeploying_the_current_build_keeps_it_serving(api, project, celery_worker_process):
    build_id = upload(api)
    api.post(f"{URL}/{build_id}/deploy")
    first_deployed_at = wait_for(lambda: settled(build_id)).deployed_at
    response = api.post(f"{URL}/{build_id}/deploy").json()["data"]
    assert response["deployed"] is True and response["runtime_status"] == "ready"
    assert api.get(f"{URL}/deployed").status_code == 200  # no gap while the job runs
    # The second job re-stamps deployed_at when it activates; waiting for that (not just for
    # the sequence, which the request already set) lets the job finish before the test ends.
    wait_for(lambda: Build.objects.get(pk=build_id).deployed_at > first_deployed_at)
    assert api.get(f"{URL}/deployed").json()["data"]["deployment_sequence"] == 2


def test_newer_deploy_supersedes_a_pending_one(api, project):
    """Two requests before any worker runs: only the newest may activate (no worker needed:
    the jobs are executed here in the order a slow worker might run them)."""
    first = Build.objects.get(pk=upload(api))
    second = Build.objects.get(pk=upload(api, bundles.make_bundle(compression="deflate")[0]))
    deploy_request(build=first)
    deploy_request(build=second)
    assert Build.objects.get(pk=first.pk).runtime_status == "superseded"
    assert deploy_execute(build_id=first.pk, sequence=1) == "superseded"
    assert deploy_execute(build_id=second.pk, sequence=2) == "deployed"
    assert deploy_execute(build_id=second.pk, sequence=2) == "deployed"  # a repeat is harmless
    assert list(Build.objects.filter(deployed=True).values_list("pk", flat=True)) == [second.pk]


def test_deploy_reactivates_a_deactivated_project(api, project, celery_worker_process):
    build_id = upload(api)
    api.post("/v1/projects/billing/deactivate")
    api.post(f"{URL}/{build_id}/deploy")
    assert api.get("/v1/projects/billing").json()["data"]["active"] is True
    assert wait_for(lambda: settled(build_id)).deployed


def test_deactivate_undeploys_and_activate_redeploys(api, project, celery_worker_process):
    build_id = upload(api)
    api.post(f"{URL}/{build_id}/deploy")
    wait_for(lambda: settled(build_id))
    api.post("/v1/projects/billing/deactivate")
    assert api.get(f"{URL}/deployed").status_code == 404
    assert api.get("/v1/projects/billing/event-handlers").json()["data"] == []
    body = api.post("/v1/projects/billing/activate").json()["data"]
    assert body["redeployed_build_id"] == build_id
    wait_for(lambda: Build.objects.get(pk=build_id).deployed, message="redeploy")


def test_missing_context_is_a_warning(api, project):
    data, _ = bundles.make_bundle(ctx_requirements=["STRIPE_KEY"])
    build_id = upload(api, data)
    warnings = api.post(f"{URL}/{build_id}/deploy").json()["data"]["warnings"]
    assert any("STRIPE_KEY" in warning for warning in warnings)
    api.post("/v1/projects/billing/context", {"key": "STRIPE_KEY", "value": "x"}, format="json")
    assert api.post(f"{URL}/{build_id}/deploy").json()["data"]["warnings"] == []


def test_live_build_replaces_in_place_and_deploys_at_once(api, project):
    first = upload(api, build_type="live")
    live = api.get(f"{URL}/live").json()["data"]
    assert live["build_id"] == first and live["deployed"] is True
    assert live["runtime_status"] == "ready"
    second = upload(api, bundles.make_bundle(compression="deflate")[0], build_type="live")
    assert api.get(f"{URL}/live").json()["data"]["build_id"] == second
    assert not Build.objects.filter(pk=first).exists()
    assert Build.objects.filter(build_type="live").count() == 1


def test_unknown_build_deploy_is_404(api, project):
    assert api.post(f"{URL}/{uuid.uuid4()}/deploy").status_code == 404
