"""Hot's retry semantics: the policy from handler meta, pending_retry, the next attempt linked
by origin_run_id, retries after a lost worker, and the limits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events.services import EventSource, event_publish
from runs import execution, services
from runs.models import Run, RunStatus
from runs.retries import retry_delay, retry_policy
from runs.routing import event_route
from secrets_app.services import context_create, context_update
from tests import bundles
from tests.runs import deploy

SOURCE = """\
::app::main ns

flaky
meta {on-event: "flaky.start", retry: {attempts: 2, delay: 200}}
fn (event) {
  mode ::hot::ctx/get("MODE")
  if(eq(mode, "fail"), fail("not yet", {code: 7}), {ok: true})
}

steady
meta {on-event: "steady.start"}
fn (event) {
  mode ::hot::ctx/get("MODE")
  if(eq(mode, "fail"), fail("not yet", {code: 7}), {ok: true})
}

twice
meta {on-event: "twice.start", retry: 1}
fn (event) { {ok: true} }
"""
HANDLERS = [
    bundles.Handler(
        "flaky.start",
        "::app::main/flaky",
        meta={"on-event": "flaky.start", "retry": {"attempts": 2, "delay": 200}},
    ),
    bundles.Handler("steady.start", "::app::main/steady"),
    bundles.Handler(
        "twice.start", "::app::main/twice", meta={"on-event": "twice.start", "retry": 1}
    ),
]


# --- the policy ------------------------------------------------------------------------------


def test_simple_form_uses_the_default_delay():
    assert retry_policy({"retry": 3}) == {
        "attempts": 3,
        "delay": 1000,
        "backoff": "fixed",
        "max_delay": 300_000,
        "jitter": False,
    }


@pytest.mark.parametrize("meta", [{}, {"retry": 0}, {"retry": -2}, {"retry": "x"}, None])
def test_no_retry(meta):
    assert retry_policy(meta) is None


def test_full_form_and_clamping(settings):
    settings.HOT_RETRY_MAX_ATTEMPTS = 4
    settings.HOT_RETRY_MAX_DELAY_MS = 60_000
    policy = retry_policy(
        {
            "retry": {
                "attempts": 50,
                "delay": 5,
                "backoff": "Exponential",
                "max_delay": 10**9,
                "jitter": True,
            }
        }
    )
    assert policy == {
        "attempts": 4,
        "delay": 100,  # at least 100 ms
        "backoff": "exponential",
        "max_delay": 60_000,
        "jitter": True,
    }


@pytest.mark.parametrize(
    ("backoff", "expected_ms"),
    [
        ("fixed", [1000, 1000, 1000, 1000]),
        ("linear", [1000, 2000, 3000, 4000]),
        ("exponential", [1000, 2000, 4000, 5000]),  # capped by max_delay
    ],
)
def test_backoff_policies(backoff, expected_ms):
    policy = retry_policy(
        {"retry": {"attempts": 4, "delay": 1000, "backoff": backoff, "max_delay": 5000}}
    )
    delays = [retry_delay(policy, n) / timedelta(milliseconds=1) for n in range(4)]
    assert delays == expected_ms


def test_jitter_spreads_by_about_ten_percent():
    policy = retry_policy({"retry": {"attempts": 1, "delay": 10_000, "jitter": True}})
    delays = {retry_delay(policy, 0) / timedelta(milliseconds=1) for _ in range(200)}
    assert min(delays) >= 9000 and max(delays) <= 11_000 and len(delays) > 10


# --- the lifecycle ---------------------------------------------------------------------------


@pytest.fixture
def build(api, project):
    context_create(project=project, key="MODE", value="fail")
    data, _ = bundles.make_bundle({bundles.DEFAULT_SOURCE_PATH: SOURCE}, HANDLERS, ())
    return deploy(api, data)


def start(environment, event_type) -> Run:
    event = event_publish(
        environment=environment, event_type=event_type, event_data={}, source=EventSource.CLIENT
    )
    (run_id,) = event_route(event_id=event.pk)
    execution.execute_run(run_id=run_id)
    return Run.objects.get(pk=run_id)


def due_retry(run: Run) -> Run:
    """Start the retry as the maintenance loop would once it is due, and execute it."""
    assert services.start_due_retries(now=run.next_retry_at) == 1
    retry = Run.objects.get(origin_run=run, route_key=f"retry:{run.pk}")
    execution.execute_run(run_id=retry.pk)
    retry.refresh_from_db()
    return retry


@pytest.mark.django_db(transaction=True)
def test_a_failed_run_with_retries_left_is_pending_retry(api, environment, build):
    before = timezone.now()
    run = start(environment, "flaky.start")
    assert run.status == RunStatus.PENDING_RETRY
    assert run.retry_attempt == 0 and run.stop_time is not None
    assert run.result["$val"]["msg"] == "not yet"
    delay = run.next_retry_at - run.stop_time
    assert timedelta(milliseconds=200) <= delay < timedelta(milliseconds=300)
    assert run.next_retry_at > before
    body = api.get(f"/v1/runs/{run.pk}").json()["data"]
    assert body["status"] == "pending_retry" and body["next_retry_at"] is not None
    listed = api.get("/v1/runs?status=pending_retry").json()
    assert [item["run_id"] for item in listed["data"]] == [str(run.pk)]
    assert api.get("/v1/runs/stats").json()["data"]["pending_retry"] == 1
    # Not due yet: nothing starts.
    assert services.start_due_retries(now=run.next_retry_at - timedelta(milliseconds=1)) == 0


@pytest.mark.django_db(transaction=True)
def test_retries_are_linked_and_stop_when_attempts_are_exhausted(api, environment, build):
    first = start(environment, "flaky.start")
    second = due_retry(first)
    first.refresh_from_db()
    assert first.status == RunStatus.FAILED and first.next_retry_at is None
    assert second.origin_run_id == first.pk and second.retry_attempt == 1
    assert second.event_id == first.event_id and second.stream_id == first.stream_id
    assert second.status == RunStatus.PENDING_RETRY
    third = due_retry(second)
    assert third.retry_attempt == 2 and third.origin_run_id == second.pk
    assert third.status == RunStatus.FAILED  # two retries were allowed
    assert third.next_retry_at is None
    assert services.start_due_retries(now=timezone.now() + timedelta(hours=1)) == 0
    runs = api.get(f"/v1/events/{first.event_id}/runs").json()["data"]
    assert sorted(run["retry_attempt"] for run in runs) == [0, 1, 2]


@pytest.mark.django_db(transaction=True)
def test_a_retry_that_succeeds_ends_the_lineage(api, environment, project, build):
    first = start(environment, "flaky.start")
    context_update(project=project, key="MODE", value="fixed")
    second = due_retry(first)
    assert second.status == RunStatus.SUCCEEDED and second.result == {"ok": True}
    first.refresh_from_db()
    assert first.status == RunStatus.FAILED
    assert services.start_due_retries(now=timezone.now() + timedelta(hours=1)) == 0


@pytest.mark.django_db(transaction=True)
def test_a_retry_starts_once_even_if_two_loops_try(environment, build):
    run = start(environment, "flaky.start")
    assert services.start_due_retries(now=run.next_retry_at) == 1
    assert services.start_due_retries(now=run.next_retry_at) == 0
    assert Run.objects.filter(origin_run=run).count() == 1


@pytest.mark.django_db(transaction=True)
def test_without_retry_a_failure_is_final_and_says_why(environment, build):
    run = start(environment, "steady.start")
    assert run.status == RunStatus.FAILED and "not yet" in run.error
    assert run.next_retry_at is None
    assert services.start_due_retries(now=timezone.now() + timedelta(hours=1)) == 0


def _lose_the_worker(environment, event_type) -> Run:
    event = event_publish(
        environment=environment, event_type=event_type, event_data={}, source=EventSource.CLIENT
    )
    (run_id,) = event_route(event_id=event.pk)
    services.run_claim(run_id=run_id, worker="gone:42")
    Run.objects.filter(pk=run_id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert services.reap_expired_leases() == 1
    return Run.objects.get(pk=run_id)


@pytest.mark.django_db(transaction=True)
def test_a_lost_worker_is_retried_under_the_policy_with_the_cause_kept(environment, build):
    run = _lose_the_worker(environment, "twice.start")
    assert run.status == RunStatus.PENDING_RETRY
    assert "stopped responding" in run.error and "gone:42" in run.error
    retry = due_retry(run)
    assert retry.status == RunStatus.SUCCEEDED and retry.retry_attempt == 1


@pytest.mark.django_db(transaction=True)
def test_a_lost_worker_without_retry_fails_as_before(environment, build):
    run = _lose_the_worker(environment, "steady.start")
    assert run.status == RunStatus.FAILED and "lease expired" in run.error


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_pending_retry_stops_the_lineage(api, environment, build):
    run = start(environment, "flaky.start")
    response = api.post(f"/v1/runs/{run.pk}/cancel")
    assert response.status_code == 200 and response.json()["data"]["status"] == "cancelled"
    assert services.start_due_retries(now=timezone.now() + timedelta(hours=1)) == 0


@pytest.mark.django_db(transaction=True)
def test_stats_count_each_attempt_once(api, environment, build):
    first = start(environment, "flaky.start")
    due_retry(first)
    stats = api.get("/v1/runs/stats").json()["data"]
    assert stats["total_runs"] == 2
    assert stats["failed"] == 1 and stats["pending_retry"] == 1
