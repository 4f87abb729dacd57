"""The monthly compute quota is enforced (reliability review C7): once an environment has used
its run time for the month, new runs fail with the reason; a run already running finishes."""

import pytest
from django.utils import timezone

from events.services import EventSource, event_publish
from runs import execution, services
from runs.models import Run, RunStatus
from runs.routing import event_route
from tests.runs import deploy, hot_bundle

pytestmark = pytest.mark.django_db(transaction=True)

SOURCE = """\
::app::main ns

work
meta {on-event: "job.start"}
fn (event) { {done: event.data.n} }
"""


@pytest.fixture
def build(api, project):
    return deploy(api, hot_bundle(SOURCE, [("job.start", "work")]))


def _route(environment, n: int) -> Run:
    event = event_publish(
        environment=environment,
        event_type="job.start",
        event_data={"n": n},
        source=EventSource.CLIENT,
    )
    (run_id,) = event_route(event_id=event.pk)
    return Run.objects.get(pk=run_id)


def _spend(environment, build, seconds: int) -> None:
    """Record run time already used this month."""
    run = _route(environment, 0)
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, duration_ms=seconds * 1000, stop_time=timezone.now()
    )


def test_runs_over_the_monthly_compute_quota_fail_with_the_reason(
    api, environment, build, settings
):
    settings.HOT_COMPUTE_QUOTA_CACHE_SECONDS = 0  # each worker keeps it briefly otherwise
    environment.compute_seconds_per_month = 60
    environment.save(update_fields=["compute_seconds_per_month"])
    assert execution.execute_run(run_id=_route(environment, 1).pk) == RunStatus.SUCCEEDED

    running = _route(environment, 2)
    assert services.run_claim(run_id=running.pk, worker="w").status == RunStatus.RUNNING
    _spend(environment, build, 61)

    refused = _route(environment, 3)
    assert execution.execute_run(run_id=refused.pk) == "not-claimed"
    refused.refresh_from_db()
    assert refused.status == RunStatus.FAILED
    assert "compute quota" in refused.error and "61 of 60 seconds" in refused.error
    shown = api.get(f"/v1/runs/{refused.pk}").json()["data"]
    assert shown["status"] == "failed"
    assert shown["result"]["$val"]["msg"] == refused.error

    # The run that was already running finishes and keeps its result.
    assert services.run_finish(run_id=running.pk, status=RunStatus.SUCCEEDED, result={"ok": 1})
    assert Run.objects.get(pk=running.pk).result == {"ok": 1}
    assert api.get("/v1/runs/stats").json()["data"]["failed"] == 1


def test_a_zero_quota_means_no_limit(api, environment, build):
    environment.compute_seconds_per_month = 0
    environment.save(update_fields=["compute_seconds_per_month"])
    _spend(environment, build, 3600)
    assert execution.execute_run(run_id=_route(environment, 1).pk) == RunStatus.SUCCEEDED
