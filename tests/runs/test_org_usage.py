"""GET /v1/org/usage: the reference server's shape, computed from this service's data, summed
over the organization's environments (the numbers of /v1/env/quota, per organization)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from environments.services import environment_ensure
from events.services import EventSource, event_publish
from runs import services
from runs.models import Run, RunStatus
from runs.routing import event_route
from tests.conftest import _client_for
from tests.runs import deploy, hot_bundle

pytestmark = pytest.mark.django_db

SOURCE = """\
::app::main ns

on-paid
meta {on-event: "order.paid"}
fn (event) { "paid" }

nightly
meta {schedule: "0 3 * * *"}
fn (event) { "swept" }
"""


def _finished_run(environment, seconds: float) -> Run:
    event = event_publish(
        environment=environment, event_type="order.paid", event_data={}, source=EventSource.CLIENT
    )
    (run_id,) = event_route(event_id=event.id)
    services.run_claim(run_id=run_id, worker="w")
    Run.objects.filter(pk=run_id).update(start_time=timezone.now() - timedelta(seconds=seconds))
    assert services.run_finish(run_id=run_id, status=RunStatus.SUCCEEDED, result="paid")
    return Run.objects.get(pk=run_id)


def test_empty_organization(api, environment):
    usage = api.get("/v1/org/usage").json()["data"]
    assert usage["org_id"] == str(environment.organization_id)
    assert usage["usage"] == {
        "runs_this_period": 0,
        "file_storage_bytes": 0,
        "team_members": 0,
        "call_storage_bytes": 0,
        "call_count": 0,
        "store_storage_bytes": 0,
        "active_schedules": 0,
    }
    assert usage["limits"]["runs_per_month"] == -1
    assert usage["limits"]["storage_bytes"] == environment.storage_limit_bytes
    assert usage["usage_percent"]["has_warning"] is False
    plan = usage["plan"]
    assert plan["name"] == "Self-Hosted"
    assert plan["period_start"].endswith("-01T00:00:00Z")
    assert (
        plan["period_end"].endswith("-01T00:00:00Z") and plan["period_end"] > plan["period_start"]
    )


def test_usage_counts_runs_storage_compute_and_schedules(api, environment, project):
    build = deploy(api, hot_bundle(SOURCE, [("order.paid", "on-paid")], [("0 3 * * *", "nightly")]))
    _finished_run(environment, seconds=30)
    _finished_run(environment, seconds=60)
    # A second environment of the same organization counts; another organization's does not.
    sibling = environment_ensure(name="staging", organization_name=environment.organization.name)
    _client_for(sibling).post("/v1/projects", {"name": "other"}, format="json")
    stranger = environment_ensure(name="x", organization_name="someone-else")
    stranger_api = _client_for(stranger)
    stranger_api.post("/v1/projects", {"name": "theirs"}, format="json")
    deploy(stranger_api, hot_bundle(SOURCE, [("order.paid", "on-paid")]), project="theirs")
    _finished_run(stranger, seconds=5)
    environment.compute_seconds_per_month = 100
    environment.storage_limit_bytes = build.size * 4
    environment.save()

    usage = api.get("/v1/org/usage").json()["data"]
    assert usage["usage"]["runs_this_period"] == 2
    assert usage["usage"]["file_storage_bytes"] == build.size
    assert usage["usage"]["active_schedules"] == 1
    limits = usage["limits"]
    assert limits["storage_bytes"] == build.size * 4 + sibling.storage_limit_bytes
    assert limits["compute_units_per_month"] == 100 + sibling.compute_seconds_per_month
    assert 90 <= limits["compute_units_used"] <= 95
    quota = api.get("/v1/env/quota").json()["data"]
    assert quota["compute_used_percent"] >= 90  # the same seconds, against this env's budget
    expected = round(build.size * 100 / limits["storage_bytes"], 2)
    assert usage["usage_percent"]["file_storage"] == expected
    assert usage["usage_percent"]["compute"] > 0

    # Over 90 % of the organization's compute raises the warning.
    sibling.compute_seconds_per_month = 0
    sibling.save()
    environment.compute_seconds_per_month = 95
    environment.save()
    assert api.get("/v1/org/usage").json()["data"]["usage_percent"]["has_warning"] is True
