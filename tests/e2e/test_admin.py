"""Operators browse events and runs (result, variables, stream) and cancel runs."""

import pytest

from runs.execution import execute_run
from runs.models import Run
from runs.routing import event_route

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_shows_runs_and_cancels(admin_client, api, deployed):
    event_id = api.post(
        "/v1/events", {"event_type": "chat.start", "event_data": {"n": 1}}, format="json"
    ).json()["data"]["event_id"]
    (run_id,) = event_route(event_id=event_id)
    assert execute_run(run_id=run_id) == "succeeded"
    assert admin_client.get("/admin/events/event/").status_code == 200
    assert admin_client.get(f"/admin/events/event/{event_id}/change/").status_code == 200
    page = admin_client.get(f"/admin/runs/run/{run_id}/change/").content.decode()
    assert "stream:data" in page and "hello" in page  # stream output
    assert "&lt;secret&gt;" in page and "tok-very-secret" not in page  # variables, masked

    queued_event = api.post(
        "/v1/events", {"event_type": "chat.start", "event_data": {"n": 2}}, format="json"
    ).json()["data"]["event_id"]
    (queued,) = event_route(event_id=queued_event)
    selection = {"action": "cancel_runs", "_selected_action": [str(queued), str(run_id)]}
    asked = admin_client.post("/admin/runs/run/", selection)
    assert asked.status_code == 200  # the confirmation page
    assert Run.objects.get(pk=queued).status == "queued"
    response = admin_client.post("/admin/runs/run/", {**selection, "confirmed": "yes"})
    assert response.status_code == 302
    assert Run.objects.get(pk=queued).status == "cancelled"
    assert Run.objects.get(pk=run_id).status == "succeeded"
