"""Retries end to end: a real worker, the maintenance loop, a live server and the official SDK
following a run's lineage (``runs.wait``, ``streams.subscribe_with_event``)."""

import threading

import pytest
from django.db import connection
from hot import HotClient
from hot.errors import HotRunError

from environments.services import api_key_issue
from runs.models import Run
from secrets_app.services import context_create, context_update
from tests import bundles
from tests.e2e.conftest import deploy_source
from tests.worker import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SOURCE = """\
::app::main ns

flaky
meta {on-event: "flaky.start", retry: {attempts: 2, delay: 1500, backoff: "linear"}}
fn (event) {
  mode ::hot::ctx/get("MODE")
  if(eq(mode, "fail"), fail("not yet", {code: 7}), {ok: true})
}
"""
HANDLERS = [
    bundles.Handler(
        "flaky.start",
        "::app::main/flaky",
        meta={
            "on-event": "flaky.start",
            "retry": {"attempts": 2, "delay": 1500, "backoff": "linear"},
        },
    )
]


@pytest.fixture
def sdk(hot_server, celery_worker_process, maintenance_process, environment, project):
    context_create(project=project, key="MODE", value="fail")
    deploy_source(project, SOURCE, HANDLERS)
    token = api_key_issue(environment=environment, name="sdk").token
    with HotClient(token=token, base_url=hot_server.url, timeout=30) as client:
        yield client


def _first_attempt_pending(event_id) -> Run:
    return wait_for(
        lambda: Run.objects.filter(event_id=event_id, status="pending_retry").first(),
        timeout=30,
        message="the first attempt to fail",
    )


def test_runs_wait_follows_the_retry_to_success(sdk, project):
    event = sdk.events.publish({"event_type": "flaky.start", "event_data": {}})
    first = _first_attempt_pending(event["event_id"])
    context_update(project=project, key="MODE", value="ok")
    run = sdk.runs.wait(str(first.pk), timeout=30)
    assert run["status"] == "succeeded" and run["result"] == {"ok": True}
    assert run["origin_run_id"] == str(first.pk) and run["retry_attempt"] == 1
    assert run["event_id"] == event["event_id"]
    # Waiting on the first attempt afterwards starts from the newest attempt.
    assert sdk.runs.wait(str(first.pk), timeout=10)["run_id"] == run["run_id"]


def test_runs_wait_raises_once_attempts_are_exhausted(sdk):
    event = sdk.events.publish({"event_type": "flaky.start", "event_data": {}})
    first = _first_attempt_pending(event["event_id"])
    with pytest.raises(HotRunError) as raised:
        sdk.runs.wait(str(first.pk), timeout=30)
    last = raised.value.run
    assert last["status"] == "failed" and last["retry_attempt"] == 2
    # linear backoff: 1.5 s, then 3 s
    attempts = list(Run.objects.filter(event_id=event["event_id"]).order_by("retry_attempt"))
    gaps = [
        (later.created_at - earlier.stop_time).total_seconds()
        for earlier, later in zip(attempts, attempts[1:], strict=False)
    ]
    assert 1.5 <= gaps[0] < 3.5 and 3.0 <= gaps[1] < 5.0


def test_subscribe_with_event_follows_the_retry(sdk, project):
    def fix_when_pending():
        try:
            wait_for(lambda: Run.objects.filter(status="pending_retry").exists(), timeout=30)
            context_update(project=project, key="MODE", value="ok")
        finally:
            connection.close()

    fixer = threading.Thread(target=fix_when_pending)
    fixer.start()
    seen = list(sdk.streams.subscribe_with_event({"event_type": "flaky.start", "event_data": {}}))
    fixer.join(timeout=30)
    types = [event["type"] for event in seen]
    assert types == ["event:published", "run:start", "run:retry", "run:start", "run:stop"]
    assert seen[2]["run"]["status"] == "pending_retry"
    assert seen[-1]["run"]["retry_attempt"] == 1
    assert seen[-1]["run"]["event_id"] == seen[0]["event_id"]
