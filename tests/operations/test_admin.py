"""The operator's admin: overview dashboard, projects, safe actions (confirmed, logged),
one-time token page, what can and cannot be deleted."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from builds.models import Build
from builds.services import build_upload
from environments.models import ApiKey
from environments.services import api_key_authenticate
from events.services import EventSource, event_publish
from runs.models import Run
from runs.routing import event_route
from tests import bundles
from tests.e2e.conftest import deploy_source

pytestmark = pytest.mark.django_db


def _upload(project):
    data, bundle_hash = bundles.make_bundle()
    return build_upload(
        project=project, upload=SimpleUploadedFile("b.zip", data), client_hash=bundle_hash
    ).build


@pytest.mark.django_db(transaction=True)
def test_dashboard_shows_runs_failures_queue_workers_and_quotas(admin_client, project):
    deploy_source(project)
    event = event_publish(
        environment=project.environment,
        event_type="fail.start",
        event_data={},
        source=EventSource.CLIENT,
    )
    (run_id,) = event_route(event_id=event.pk)
    from runs.execution import execute_run

    assert execute_run(run_id=run_id) == "failed"
    from datetime import timedelta

    from django.utils import timezone

    from operations.models import WorkerHeartbeat

    silent = timezone.now() - timedelta(minutes=5)
    WorkerHeartbeat.objects.create(name="gone@h", pid=9, started_at=silent, last_seen_at=silent)
    page = admin_client.get("/admin/").content.decode()
    for section in (
        "hot-runs-by-status",
        "hot-failures",
        "hot-top-failing",
        "hot-queued",
        "hot-workers",
        "hot-quotas",
    ):
        assert f'id="{section}"' in page
    assert "::app::main/failing" in page  # top failing function
    assert "1 failed" in page  # the chart's bar for this hour
    assert re.search(r'gone@h</td><td>0</td>\s*<td class="hot-bad">30\d s ago', page)
    assert "testing" in page and "GiB" in page  # quota row of the environment


def test_project_admin_lists_builds_keys_runs_and_deactivates_with_confirmation(
    admin_client, project
):
    build = deploy_source(project)
    listing = admin_client.get("/admin/projects/project/").content.decode()
    assert "billing" in listing and str(build.pk)[:8] in listing
    page = admin_client.get(f"/admin/projects/project/{project.pk}/change/").content.decode()
    assert str(build.pk)[:8] in page and "(deployed)" in page
    assert f"/admin/projects/project/{project.pk}/do/deactivate_projects/" in page

    confirm = admin_client.get(f"/admin/projects/project/{project.pk}/do/deactivate_projects/")
    assert confirm.status_code == 200 and b"Yes, deactivated" in confirm.content
    project.refresh_from_db()
    assert project.active  # asking is not doing
    done = admin_client.post(
        "/admin/projects/project/",
        {
            "action": "deactivate_projects",
            "_selected_action": [str(project.pk)],
            "confirmed": "yes",
            "reason": "load test over",
        },
    )
    assert done.status_code == 302
    project.refresh_from_db()
    assert not project.active and not Build.objects.get(pk=build.pk).deployed
    entry = LogEntry.objects.get(object_id=str(project.pk))
    assert entry.change_message == "Deactivated (reason: load test over)"


def test_a_new_key_is_shown_once_on_a_no_store_page_never_in_a_cookie(admin_client, environment):
    response = admin_client.post(
        "/admin/environments/apikey/add/", {"environment": environment.pk, "name": "ci"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "messages" not in response.cookies
    token = re.search(r'value="(hot_[0-9a-f]{32}_[0-9a-f]{64})"', response.content.decode())[1]
    assert api_key_authenticate(token) is not None
    assert b'id="hot-copy"' in response.content
    follow_up = admin_client.get("/admin/environments/apikey/").content.decode()
    assert token not in follow_up  # never shown again
    assert token[-64:] not in "".join(v.value for v in admin_client.cookies.values())


def test_revoking_asks_first_and_leaves_history(admin_client, environment):
    from environments.services import api_key_issue

    key = api_key_issue(environment=environment, name="old").api_key
    first = admin_client.post(
        "/admin/environments/apikey/",
        {"action": "revoke_keys", "_selected_action": [str(key.pk)]},
    )
    assert first.status_code == 200 and b"Yes, revoked" in first.content
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    page = admin_client.get(f"/admin/environments/apikey/{key.pk}/change/").content.decode()
    assert "Revoke this key" in page
    admin_client.post(
        "/admin/environments/apikey/",
        {
            "action": "revoke_keys",
            "_selected_action": [str(key.pk)],
            "confirmed": "yes",
            "reason": "leaked",
        },
    )
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert LogEntry.objects.get(object_id=str(key.pk)).change_message == (
        "Revoked (reason: leaked)"
    )


def test_deploying_two_builds_of_one_project_is_refused(admin_client, project):
    first, second = _upload(project), _upload(project)
    response = admin_client.post(
        "/admin/builds/build/",
        {"action": "deploy_builds", "_selected_action": [str(first.pk), str(second.pk)]},
        follow=True,
    )
    assert b"Deploy one build per project at a time" in response.content
    assert not Build.objects.filter(runtime_status="pending", deployment_sequence__gt=0).exists()


def test_deployed_builds_and_environments_cannot_be_deleted_here(admin_client, project):
    deployed = deploy_source(project)
    spare = _upload(project)
    assert admin_client.get(f"/admin/builds/build/{deployed.pk}/delete/").status_code == 403
    assert admin_client.get(f"/admin/builds/build/{spare.pk}/delete/").status_code == 200
    env = project.environment
    assert admin_client.get(f"/admin/environments/environment/{env.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/runs/run/1/delete/").status_code in (403, 404)


@pytest.mark.django_db(transaction=True)
def test_run_page_has_a_timeline_pretty_json_and_the_chain(admin_client, api, project):
    deploy_source(project)
    event_id = api.post(
        "/v1/events",
        {"event_type": "user.signup", "event_data": {"email": "a@b.c"}},
        format="json",
    ).json()["data"]["event_id"]
    (run_id,) = event_route(event_id=event_id)
    from runs.execution import execute_run

    assert execute_run(run_id=run_id) == "succeeded"
    from events.models import Event

    (sent,) = Event.objects.filter(origin_run_id=run_id)  # send("email.welcome", ...)
    (welcome_run,) = event_route(event_id=sent.pk)
    page = admin_client.get(f"/admin/runs/run/{run_id}/change/").content.decode()
    assert "hot-timeline" in page and "succeeded" in page
    assert "&quot;welcomed&quot;: &quot;a@b.c&quot;" in page  # indented JSON, not a repr
    assert f"/admin/events/event/{event_id}/change/" in page
    assert "runs of events it sent" in page and str(welcome_run)[:8] in page
    assert re.search(r"showing (\d+) of \1 entries", page)
    listing = admin_client.get("/admin/runs/run/").content.decode()
    assert "hot-status-succeeded" in listing and "user.signup" in listing
    event_page = admin_client.get(f"/admin/events/event/{event_id}/change/").content.decode()
    assert f"/admin/runs/run/?event__id__exact={event_id}" in event_page
    assert admin_client.get(f"/admin/runs/run/?event__id__exact={event_id}").status_code == 200


def test_cancel_needs_confirmation_and_is_logged(admin_client, api, project):
    deploy_source(project)
    event_id = api.post(
        "/v1/events", {"event_type": "slow.start", "event_data": {}}, format="json"
    ).json()["data"]["event_id"]
    (run_id,) = event_route(event_id=event_id)
    page = admin_client.get(f"/admin/runs/run/{run_id}/do/cancel_runs/")
    assert page.status_code == 200 and b"Yes, cancellation requested" in page.content
    assert Run.objects.get(pk=run_id).status == "queued"
    admin_client.post(
        "/admin/runs/run/",
        {"action": "cancel_runs", "_selected_action": [str(run_id)], "confirmed": "yes"},
    )
    assert Run.objects.get(pk=run_id).status == "cancelled"
    assert LogEntry.objects.get(object_id=str(run_id)).change_message == "Cancellation requested"


def test_static_files_and_docs_are_served_by_the_service(client):
    assert client.get("/static/admin/css/base.css").status_code == 200
    docs = client.get("/v1/docs").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs)
    assert assets and all(a.startswith("/static/") for a in assets)
    assert "cdn" not in docs.lower() and "https://" not in docs
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    redoc = client.get("/v1/redoc").content.decode()
    assert "https://" not in redoc
