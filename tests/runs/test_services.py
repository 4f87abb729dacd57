"""Routing, execution and the run lifecycle, in-process (no worker, no broker)."""

import contextlib
import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from environments.models import Environment
from events.models import Event, Stream, StreamEntry
from events.services import EventSource, event_publish
from hotapi import sql
from runs import execution, extensions, services
from runs.models import Run, RunCounter, RunStatus, RunType, RunVariable
from runs.routing import event_route
from tests import bundles, live
from tests.runs import deploy, hot_bundle

SOURCE = """\
::app::main ns

on-signup
meta {on-event: "user.signup"}
fn (event) {
  user event.data
  send("email.welcome", {to: user.email})
  {welcomed: user.email}
}

audit-signup
meta {on-event: "user.signup"}
fn (event) {
  "audited"
}

on-welcome
meta {on-event: "email.welcome"}
fn (event) {
  {sent: event.data.to}
}

paid-first
meta {on-event: "order.paid", once: true}
fn (event) {
  "first"
}

paid-second
meta {on-event: "order.paid", once: true}
fn (event) {
  "second"
}

paid-always
meta {on-event: "order.paid"}
fn (event) {
  "always"
}

read-ctx
meta {on-event: "ctx.read"}
fn (event) {
  key ::hot::ctx/get("API_KEY")
  {key: key, fallback: ::hot::ctx/get("NOT_SET", "dflt")}
}

leak-ctx
meta {on-event: "ctx.leak"}
fn (event) {
  fail(`cannot use key ${::hot::ctx/get("API_KEY")}`)
}

spin fn (n) {
  spin(add(n, 1))
}

deep fn (n) {
  add(1, deep(add(n, 1)))
}

grow fn (s) {
  if(gt(length(s), 4000000), length(s), grow(`${s}${s}`))
}

run-loop
meta {on-event: "run.loop"}
fn (event) {
  spin(0)
}

run-deep
meta {on-event: "run.deep"}
fn (event) {
  deep(0)
}

run-huge
meta {on-event: "run.huge"}
fn (event) {
  ::hot::str/repeat("x", 2000000)
}

run-grow
meta {on-event: "run.grow"}
fn (event) {
  grow("x")
}

add-one fn (n) {
  add(n, 1)
}
"""

HANDLERS = [
    ("user.signup", "on-signup"),
    ("user.signup", "audit-signup"),
    ("email.welcome", "on-welcome"),
    ("order.paid", "paid-first", True),
    ("order.paid", "paid-second", True),
    ("order.paid", "paid-always"),
    ("ctx.read", "read-ctx"),
    ("ctx.leak", "leak-ctx"),
    ("run.loop", "run-loop"),
    ("run.deep", "run-deep"),
    ("run.huge", "run-huge"),
    ("run.grow", "run-grow"),
]


@pytest.fixture
def build(api, project):
    return deploy(api, hot_bundle(SOURCE, HANDLERS))


@pytest.fixture
def limits(settings):
    settings.HOT_RUN_MAX_STEPS = 200_000
    settings.HOT_RUN_MAX_SECONDS = 5
    settings.HOT_RUN_MAX_DEPTH = 500
    settings.HOT_RUN_MAX_VALUE_BYTES = 100_000
    return settings


def publish(environment, event_type, data=None):
    return event_publish(
        environment=environment, event_type=event_type, event_data=data, source=EventSource.CLIENT
    )


def route(environment, event_type, data=None) -> list[Run]:
    event = publish(environment, event_type, data)
    ids = event_route(event_id=event.id)
    return list(Run.objects.filter(pk__in=ids).order_by("function"))


def run_one(environment, event_type, data=None) -> Run:
    (run,) = route(environment, event_type, data)
    assert execution.execute_run(run_id=run.pk) in RunStatus.values
    run.refresh_from_db()
    return run


# --- routing ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_run_per_matching_handler(environment, build):
    runs = route(environment, "user.signup", {"email": "a@example.com"})
    assert [run.function for run in runs] == [
        "::app::main/audit-signup",
        "::app::main/on-signup",
    ]
    event = Event.objects.get(pk=runs[0].event_id)
    assert event.dispatched_at is not None and event.handled_runs == 2
    for run in runs:
        assert run.status == RunStatus.QUEUED
        assert run.run_type == "event"
        assert run.build_id == build.id and run.project_id == build.project_id
        assert run.stream_id == event.stream_id
        assert run.args == [{"type": "user.signup", "data": {"email": "a@example.com"}}]


@pytest.mark.django_db
def test_unmatched_event_type_creates_no_run(environment, build):
    assert route(environment, "user.deleted", {}) == []
    assert route(environment, "user.signup.v2", {}) == []  # exact match only
    assert Run.objects.count() == 0


@pytest.mark.django_db
def test_undeployed_build_gets_no_runs(api, environment, project):
    from tests.runs import upload

    upload(api, hot_bundle(SOURCE, HANDLERS))  # uploaded, never deployed
    assert route(environment, "user.signup", {"email": "x@example.com"}) == []


@pytest.mark.django_db
def test_inactive_project_gets_no_runs(api, environment, build):
    assert api.post("/v1/projects/billing/deactivate").status_code == 200
    assert route(environment, "user.signup", {"email": "x@example.com"}) == []


@pytest.mark.django_db
def test_other_environments_deployments_are_not_routed(other_environment, build):
    assert route(other_environment, "user.signup", {"email": "x@example.com"}) == []


@pytest.mark.django_db
def test_once_handlers_yield_a_single_run(environment, build):
    runs = route(environment, "order.paid", {"order": 1})
    # All non-once handlers, plus the first once handler (by ns, var) as the reference does.
    assert [run.function for run in runs] == ["::app::main/paid-always", "::app::main/paid-first"]
    assert Event.objects.get(pk=runs[0].event_id).handled_runs == 2


@pytest.mark.django_db
def test_routing_twice_creates_no_duplicates(environment, build):
    event = publish(environment, "user.signup", {"email": "a@example.com"})
    first = event_route(event_id=event.id)
    assert len(first) == 2
    assert event_route(event_id=event.id) == []
    Event.objects.filter(pk=event.pk).update(dispatched_at=None)  # a lost acknowledgement
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            event_route(event_id=event.id)
    assert Run.objects.filter(event=event).count() == 2


@pytest.mark.django_db
def test_unique_constraint_on_event_and_route_key(environment, build):
    (run, _) = route(environment, "user.signup", {"email": "a@example.com"})
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            Run.objects.create(
                environment=environment,
                stream_id=run.stream_id,
                event_id=run.event_id,
                route_key=run.route_key,
                run_type="event",
                function=run.function,
            )


@pytest.mark.django_db
def test_hot_call_of_a_known_function(environment, build):
    (run,) = route(environment, "hot:call", {"fn": "::app::main/add-one", "args": [41]})
    assert run.run_type == "call" and run.status == RunStatus.QUEUED
    assert run.function == "::app::main/add-one" and run.args == [41]
    assert run.build_id == build.id


@pytest.mark.django_db
def test_hot_call_of_an_unknown_function_fails_with_a_reason(environment, build):
    (run,) = route(environment, "hot:call", {"fn": "::app::main/nope", "args": []})
    assert run.run_type == "call" and run.status == RunStatus.FAILED
    assert "::app::main/nope" in run.error
    assert run.result["$type"] == "::hot::run/Failure"
    assert "::app::main/nope" in run.result["$val"]["msg"]
    assert run.stop_time is not None
    kinds = list(StreamEntry.objects.filter(run_id=run.pk).values_list("kind", flat=True))
    assert kinds == ["run:start", "run:fail"]


@pytest.mark.django_db
@pytest.mark.parametrize("data", [None, "::app::main/add-one", {"args": [1]}, {"fn": "add-one"}])
def test_malformed_hot_call_is_a_failed_run(environment, build, data):
    (run,) = route(environment, "hot:call", data)
    assert run.status == RunStatus.FAILED and run.run_type == "call"
    assert "hot:call needs event_data" in run.error


# --- execution -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_execute_run_succeeds_with_result_variables_and_stream(api, environment, build):
    runs = route(environment, "user.signup", {"email": "ann@example.com"})
    run = next(r for r in runs if r.function == "::app::main/on-signup")
    assert execution.execute_run(run_id=run.pk) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.result == {"welcomed": "ann@example.com"}
    assert run.start_time <= run.stop_time and run.duration_ms is not None
    assert run.lease_expires_at is None and run.error == ""
    variables = list(run.variables.values("ns", "var", "value"))
    assert {"ns": "::app::main", "var": "user", "value": {"email": "ann@example.com"}} in (
        variables
    )
    kinds = list(
        StreamEntry.objects.filter(run_id=run.pk).order_by("id").values_list("kind", flat=True)
    )
    assert kinds == ["run:start", "run:stop"]
    stop = StreamEntry.objects.get(run_id=run.pk, kind="run:stop")
    assert stop.payload["run"]["status"] == "succeeded"
    assert stop.payload["run"]["result"] == {"welcomed": "ann@example.com"}
    # A second delivery of the same message does nothing.
    assert execution.execute_run(run_id=run.pk) == "not-claimed"


@pytest.mark.django_db(transaction=True)
def test_sent_events_carry_the_origin_run(environment, build):
    runs = route(environment, "user.signup", {"email": "bo@example.com"})
    parent = next(r for r in runs if r.function == "::app::main/on-signup")
    assert execution.execute_run(run_id=parent.pk) == RunStatus.SUCCEEDED
    sent = Event.objects.get(event_type="email.welcome")
    assert sent.origin_run_id == parent.pk and sent.stream_id == parent.stream_id
    assert sent.event_data == {"to": "bo@example.com"}
    (child_id,) = event_route(event_id=sent.pk)
    child = Run.objects.get(pk=child_id)
    assert child.origin_run_id == parent.pk and child.function == "::app::main/on-welcome"
    assert execution.execute_run(run_id=child_id) == RunStatus.SUCCEEDED
    child.refresh_from_db()
    assert child.result == {"sent": "bo@example.com"}


@pytest.mark.django_db(transaction=True)
def test_hot_call_executes_the_function(environment, build):
    (run,) = route(environment, "hot:call", {"fn": "::app::main/add-one", "args": [41]})
    assert execution.execute_run(run_id=run.pk) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    assert run.result == 42


@pytest.mark.django_db(transaction=True)
def test_context_variables_are_readable_and_masked(api, environment, build):
    secret = "sk_live_0123456789"
    response = api.post(
        "/v1/projects/billing/context", {"key": "API_KEY", "value": secret}, format="json"
    )
    assert response.status_code == 201
    run = run_one(environment, "ctx.read", {})
    assert run.status == RunStatus.SUCCEEDED, run.error
    # The code read the real value; what is stored and served is masked.
    assert run.result == {"key": "<secret>", "fallback": "dflt"}
    stored = {row.var: row.value for row in run.variables.all()}
    assert stored["key"] == "<secret>"
    served = api.get(f"/v1/runs/{run.pk}/vars").json()["data"]
    assert {"ns": "::app::main", "var": "key", "value": "<secret>"} in [
        {k: v[k] for k in ("ns", "var", "value")} for v in served
    ]
    body = api.get(f"/v1/runs/{run.pk}").content.decode()
    assert secret not in body
    log = "".join(str(e.payload) for e in StreamEntry.objects.filter(stream_id=run.stream_id))
    assert secret not in log


@pytest.mark.django_db(transaction=True)
def test_secrets_in_a_failure_message_are_masked_everywhere(api, environment, build):
    secret = "sk_live_0123456789"
    api.post("/v1/projects/billing/context", {"key": "API_KEY", "value": secret}, format="json")
    run = run_one(environment, "ctx.leak", {})
    assert run.status == RunStatus.FAILED
    assert "cannot use key <secret>" in run.result["$val"]["msg"]
    assert secret not in api.get(f"/v1/runs/{run.pk}").content.decode()
    leaks = [
        f"stream entry {entry.kind}"
        for entry in StreamEntry.objects.filter(stream_id=run.stream_id)
        if secret in str(entry.payload)
    ]
    if secret in run.error:
        leaks.append("runs_run.error")
    assert leaks == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("event_type", "message"),
    [
        ("run.loop", "step limit exceeded"),
        ("run.deep", "recursion depth limit exceeded"),
        ("run.huge", "value size limit exceeded"),
    ],
)
def test_runaway_code_fails_with_a_limit_message(environment, build, limits, event_type, message):
    run = run_one(environment, event_type, {})
    assert run.status == RunStatus.FAILED
    assert message in run.error
    assert message in run.result["$val"]["msg"]
    assert StreamEntry.objects.filter(run_id=run.pk, kind="run:fail").count() == 1
    # The worker keeps serving: the next run succeeds.
    assert run_one(environment, "hot:call", {"fn": "::app::main/add-one", "args": [1]}).result == 2


@pytest.mark.django_db(transaction=True)
def test_time_limit_ends_an_endless_loop(environment, build, settings):
    settings.HOT_RUN_MAX_STEPS = 10**12
    settings.HOT_RUN_MAX_SECONDS = 0.5
    run = run_one(environment, "run.loop", {})
    assert run.status == RunStatus.FAILED and "time limit exceeded" in run.error
    assert run.duration_ms < 5_000


@pytest.mark.django_db(transaction=True)
def test_growing_string_is_stopped_by_the_value_limit(environment, build, limits):
    """A string doubled in a loop to 4 MiB, far over HOT_RUN_MAX_VALUE_BYTES (100 kB). The
    limit is only checked on the final result, so this run succeeds; an unbounded doubling
    loop grows the worker's memory until it dies (the time limit is not checked while the
    giant strings are built)."""
    run = run_one(environment, "run.grow", {})
    assert run.status == RunStatus.FAILED, run.result
    assert "limit exceeded" in run.error


# --- concurrency limit, cancel, rerun, leases ------------------------------------------------


def _two_runs(environment):
    runs = route(environment, "user.signup", {"email": "c@example.com"})
    assert len(runs) == 2
    return runs


@pytest.mark.django_db
def test_max_concurrent_runs_keeps_excess_runs_queued(environment, build):
    environment.max_concurrent_runs = 1
    environment.save()
    first, second = _two_runs(environment)
    assert services.run_claim(run_id=first.pk, worker="w1").status == RunStatus.RUNNING
    assert services.run_claim(run_id=second.pk, worker="w2") is None
    second.refresh_from_db()
    assert second.status == RunStatus.QUEUED and second.start_time is None
    assert services.run_finish(run_id=first.pk, status=RunStatus.SUCCEEDED, result=1)
    assert services.run_claim(run_id=second.pk, worker="w2").status == RunStatus.RUNNING


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_respect_max_concurrent_runs(environment, build):
    environment.max_concurrent_runs = 1
    environment.save()
    runs = route(environment, "user.signup", {"email": "p@example.com"})
    runs += route(environment, "order.paid", {})
    barrier = threading.Barrier(len(runs))
    claimed: list = []

    def claim(run_id):
        try:
            barrier.wait(timeout=10)
            claimed.append(services.run_claim(run_id=run_id, worker="w"))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(run.pk,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(claimed) == 4
    assert len([run for run in claimed if run is not None]) == 1
    assert Run.objects.filter(status=RunStatus.RUNNING).count() == 1
    assert Run.objects.filter(status=RunStatus.QUEUED).count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("followed", [False, True], ids=["one-statement", "transaction"])
def test_a_finish_sees_the_claim_refused_while_it_ran(environment, build, followed):
    """The lost wake-up the worker-concurrency test once hit: the second run's claim, in
    another slot, counts the first run as running and refuses; the first run's finish must not
    conclude that nothing waits before that refusal commits, or the second run waits for a
    slot nobody offers. The claim is played on a connection of its own, paused while it holds
    what a claim holds; the finish and the pull that follows it run meanwhile in a thread, as
    the worker's slot runs them."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers: a claim and a finish cannot interleave there")
    environment.max_concurrent_runs = 1
    environment.save()
    first, second = _two_runs(environment)
    Run.objects.filter(pk=second.pk).update(enqueued_at=timezone.now())  # its message is out
    running = services.run_claim(run_id=first.pk, worker="w1")
    pulled: list = []

    def finish_then_pull():
        try:
            assert services.run_finish(
                run_id=first.pk, status=RunStatus.SUCCEEDED, result=1, run=running
            )
            pulled.append(services.run_pull_next(environment_id=environment.id, worker="w1"))
        finally:
            connection.close()

    listener = (lambda run, kind: None, frozenset([RunType.EVENT]))
    if followed:  # a listener follows the run: its finish is a transaction of its own
        extensions.on_run_change(*listener)
    runs, environments = sql.table(Run), sql.table(Environment)
    with contextlib.ExitStack() as cleanup, live.connect_test_database() as claim:
        if followed:
            cleanup.callback(extensions._listeners.remove, listener)
        claim.execute(
            f"SELECT 1 FROM {environments} WHERE id = %s FOR NO KEY UPDATE", [environment.id]
        )
        (running_runs,) = claim.execute(
            f"SELECT COUNT(*) FROM {runs} WHERE environment_id = %s AND status = 'running'",
            [environment.id],
        ).fetchone()
        assert running_runs == 1  # so the claim refuses
        finisher = threading.Thread(target=finish_then_pull)
        finisher.start()
        finisher.join(timeout=1)  # time for a finish that does not wait to end
        claim.execute(f"UPDATE {runs} SET enqueued_at = NULL WHERE id = %s", [second.pk])
    finisher.join(timeout=30)
    assert not finisher.is_alive()
    assert [run.pk for run in pulled if run is not None] == [second.pk]
    assert Run.objects.get(pk=second.pk).status == RunStatus.RUNNING


@pytest.mark.django_db(transaction=True)
def test_concurrent_routing_of_one_event_creates_its_runs_once(environment, build):
    event = publish(environment, "user.signup", {"email": "q@example.com"})
    barrier = threading.Barrier(4)
    results: list = []

    def dispatch():
        try:
            barrier.wait(timeout=10)
            results.append(event_route(event_id=event.pk))
        except IntegrityError as exc:  # the constraint backing a lost race is acceptable
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 4
    assert len([r for r in results if isinstance(r, list) and len(r) == 2]) == 1
    assert Run.objects.filter(event=event).count() == 2
    assert Event.objects.get(pk=event.pk).handled_runs == 2


@pytest.mark.django_db
def test_a_run_refused_a_slot_waits_without_a_message_and_is_pulled_once_one_frees(
    environment, build
):
    environment.max_concurrent_runs = 1
    environment.save()
    first, second = _two_runs(environment)
    Run.objects.filter(pk=second.pk).update(enqueued_at=timezone.now())  # its message arrives
    assert services.run_claim(run_id=first.pk, worker="w1") is not None
    assert services.run_claim(run_id=second.pk, worker="w2") is None
    assert Run.objects.get(pk=second.pk).enqueued_at is None  # no message out for it now
    assert services.run_pull_next(environment_id=environment.id, worker="w1") is None  # full
    assert services.run_finish(run_id=first.pk, status=RunStatus.SUCCEEDED, result=1)
    pulled = services.run_pull_next(environment_id=environment.id, worker="w1")
    assert pulled.pk == second.pk and pulled.status == RunStatus.RUNNING
    assert services.run_pull_next(environment_id=environment.id, worker="w1") is None


@pytest.mark.django_db
def test_the_worker_finishing_its_run_sees_a_waiting_run_in_the_same_round_trip(
    environment, build, django_assert_num_queries
):
    environment.max_concurrent_runs = 1
    environment.save()
    first, second = _two_runs(environment)
    claimed = services.run_claim(run_id=first.pk, worker="w1")
    assert services.run_claim(run_id=second.pk, worker="w2") is None  # waits for the slot
    postgresql = connection.vendor == "postgresql"
    with django_assert_num_queries(1) if postgresql else contextlib.nullcontext():
        assert services.run_finish(
            run_id=first.pk, run=claimed, status=RunStatus.SUCCEEDED, result=1
        )
    pulled = services.run_pull_next(environment_id=environment.id, worker="w1")
    assert pulled.pk == second.pk and pulled.status == RunStatus.RUNNING
    # Finishing that one sees nothing waiting: the worker pulls nothing, without looking again.
    with django_assert_num_queries(1) if postgresql else contextlib.nullcontext():
        assert services.run_finish(
            run_id=second.pk, run=pulled, status=RunStatus.SUCCEEDED, result=2
        )
        assert services.run_pull_next(environment_id=environment.id, worker="w1") is None


@pytest.mark.django_db
def test_reaping_frees_the_slot_for_a_waiting_run(
    environment, build, monkeypatch, django_capture_on_commit_callbacks
):
    environment.max_concurrent_runs = 1
    environment.save()
    stale, waiting = _two_runs(environment)
    services.run_claim(run_id=stale.pk, worker="dead:1")
    assert services.run_claim(run_id=waiting.pk, worker="w") is None
    Run.objects.filter(pk=stale.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    enqueued = []
    monkeypatch.setattr("runs.tasks.execute_run.delay", lambda run_id: enqueued.append(run_id))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reap_expired_leases() == 1
    assert enqueued == [str(waiting.pk)]
    assert services.run_claim(run_id=waiting.pk, worker="w").status == RunStatus.RUNNING


@pytest.mark.django_db
def test_a_run_cancelled_before_its_claim_never_starts(environment, build):
    run, _ = _two_runs(environment)
    Run.objects.filter(pk=run.pk).update(cancel_requested=True)
    assert services.run_claim(run_id=run.pk, worker="w") is None
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.worker == ""
    assert "before it started" in run.error


@pytest.mark.django_db
def test_cancel_of_a_queued_run_is_immediate(environment, build):
    run, _ = _two_runs(environment)
    cancelled = services.run_cancel(run=run)
    assert cancelled.status == RunStatus.CANCELLED and cancelled.stop_time is not None
    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELLED
    assert services.run_claim(run_id=run.pk, worker="w") is None
    assert StreamEntry.objects.filter(run_id=run.pk, kind="run:cancel").count() == 1


@pytest.mark.django_db
def test_cancel_of_a_running_run_requests_it(environment, build):
    run, _ = _two_runs(environment)
    services.run_claim(run_id=run.pk, worker="w")
    cancelled = services.run_cancel(run=run)
    assert cancelled.status == RunStatus.RUNNING and cancelled.cancel_requested
    run.refresh_from_db()
    assert run.cancel_requested and run.status == RunStatus.RUNNING


@pytest.mark.django_db(transaction=True)
def test_execution_observes_a_cancel_request(environment, build, settings, monkeypatch):
    settings.HOT_RUN_MAX_STEPS = 10**12
    settings.HOT_RUN_MAX_SECONDS = 20
    (run,) = route(environment, "run.loop", {})
    claim = services.run_claim

    def claim_then_cancel(**kwargs):
        claimed = claim(**kwargs)
        services.run_cancel(run=claimed)  # requested while running
        return claimed

    monkeypatch.setattr(execution.services, "run_claim", claim_then_cancel)
    assert execution.execute_run(run_id=run.pk) == RunStatus.CANCELLED
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.duration_ms < 10_000
    assert StreamEntry.objects.filter(run_id=run.pk, kind="run:cancel").count() == 1


@pytest.mark.django_db
def test_rerun_is_a_new_linked_run(environment, build):
    run, _ = _two_runs(environment)
    services.run_claim(run_id=run.pk, worker="w")
    services.run_finish(run_id=run.pk, status=RunStatus.FAILED, error="boom")
    rerun = services.run_rerun(run=Run.objects.get(pk=run.pk))
    assert rerun.pk != run.pk and rerun.origin_run_id == run.pk
    assert rerun.status == RunStatus.QUEUED
    assert (rerun.function, rerun.args, rerun.run_type) == (run.function, run.args, run.run_type)
    assert (rerun.build_id, rerun.project_id, rerun.event_id) == (
        run.build_id,
        run.project_id,
        run.event_id,
    )
    second = services.run_rerun(run=Run.objects.get(pk=run.pk))
    assert second.pk != rerun.pk


@pytest.mark.django_db
def test_reaper_fails_runs_with_an_expired_lease_only(environment, build):
    stale, fresh = _two_runs(environment)
    services.run_claim(run_id=stale.pk, worker="host:123")
    services.run_claim(run_id=fresh.pk, worker="host:456")
    Run.objects.filter(pk=stale.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert services.reap_expired_leases() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == RunStatus.FAILED and "lease" in stale.error
    assert "lease" in stale.result["$val"]["msg"]
    assert fresh.status == RunStatus.RUNNING
    assert services.reap_expired_leases() == 0
    # The killed worker's late report changes nothing.
    assert not services.run_finish(run_id=stale.pk, status=RunStatus.SUCCEEDED, result=1)
    assert Run.objects.get(pk=stale.pk).status == RunStatus.FAILED


def _variable(run, sequence: int) -> RunVariable:
    now = timezone.now()
    return RunVariable(
        run_id=run.pk, sequence=sequence, ns="::app::main", var=f"v{sequence}",
        value={"n": sequence}, start_time=now, stop_time=now,
    )  # fmt: skip


def _counted(environment) -> dict:
    return {
        status: sum(
            RunCounter.objects.filter(environment=environment, status=status).values_list(
                "count", flat=True
            )
        )
        for status in RunStatus.values
    }


@pytest.mark.django_db
def test_a_worker_records_its_own_run_with_its_entry_variables_and_counters(
    environment, build, django_assert_num_queries
):
    run, _ = _two_runs(environment)
    claimed = services.run_claim(run_id=run.pk, worker="w")
    before = _counted(environment)
    # One statement on PostgreSQL (update, entry, variables, counters); a transaction elsewhere.
    one_statement = connection.vendor == "postgresql"
    with django_assert_num_queries(1) if one_statement else contextlib.nullcontext():
        assert services.run_finish(
            run_id=run.pk, run=claimed, status=RunStatus.SUCCEEDED, result={"ok": True},
            variables=[_variable(claimed, 0), _variable(claimed, 1)],
        )  # fmt: skip
    run.refresh_from_db()
    assert (run.status, run.result, run.worker) == ("succeeded", {"ok": True}, "w")
    assert run.stop_time is not None and run.lease_expires_at is None
    assert list(run.variables.values_list("var", "value")) == [("v0", {"n": 0}), ("v1", {"n": 1})]
    (stop,) = StreamEntry.objects.filter(run_id=run.pk, kind="run:stop")
    assert stop.payload["run"]["status"] == "succeeded"
    after = _counted(environment)
    assert (after["running"], after["succeeded"]) == (
        before["running"] - 1,
        before["succeeded"] + 1,
    )
    assert services.run_counters_reconcile(environment_id=environment.pk) == {}


@pytest.mark.django_db
def test_a_worker_reporting_a_run_already_reaped_changes_nothing(environment, build):
    run, _ = _two_runs(environment)
    claimed = services.run_claim(run_id=run.pk, worker="w")
    Run.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert services.reap_expired_leases() == 1
    before = _counted(environment)
    entries = StreamEntry.objects.count()
    assert not services.run_finish(
        run_id=run.pk, run=claimed, status=RunStatus.SUCCEEDED, result=1,
        variables=[_variable(claimed, 0)],
    )  # fmt: skip
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "lease" in run.error
    assert not run.variables.exists()
    assert StreamEntry.objects.count() == entries
    assert _counted(environment) == before
    assert services.run_counters_reconcile(environment_id=environment.pk) == {}


@pytest.mark.django_db(transaction=True)
def test_the_routing_task_runs_its_transaction_in_two_round_trips(
    environment, build, driver_commands
):
    """On PostgreSQL the routing task's transaction sends two query strings: the event's lock
    with its environment's lock and running count, then its writes with the COMMIT; psycopg
    sends only the BEGIN on its own. The run it started then finishes in one statement."""
    warm_up, event = (publish(environment, "user.signup", {"email": "r@example.com"}) for _ in "ab")
    event_route(event_id=warm_up.id, execute_inline=True)  # the handlers' cache is filled
    driver_commands.clear()
    with CaptureQueriesContext(connection) as queries:
        started, queued = event_route(event_id=event.id, execute_inline=True)
    assert Run.objects.get(pk=started).status == RunStatus.SUCCEEDED
    assert Run.objects.get(pk=queued).status == RunStatus.QUEUED
    if connection.vendor == "postgresql":
        assert driver_commands == [b"BEGIN"]  # Django's log still shows BEGIN and COMMIT
        sent = [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
        locks, writes, finish = sent
        assert locks.count("FOR NO KEY UPDATE") == 2 and "COUNT(*)" in locks
        assert writes.startswith("INSERT INTO") and writes.endswith("; COMMIT")
        assert finish.startswith("WITH")


@pytest.mark.django_db
def test_a_listener_following_a_run_sees_the_rows_routing_writes_at_its_end(environment, build):
    seen = []

    def listener(run, kind):
        row = Run.objects.filter(pk=run.pk).values_list("status", flat=True).first()
        seen.append((kind, row))

    extensions.on_run_change(listener, run_types=[RunType.EVENT])
    try:
        event = publish(environment, "user.signup", {"email": "l@example.com"})
        (first, _) = event_route(event_id=event.id, execute_inline=True)
    finally:
        extensions._listeners.remove((listener, frozenset([RunType.EVENT])))
    # Told in the routing transaction, with the run's row (written at its end) already there;
    # then in the transaction of its end, after its row changed.
    assert seen == [("run:start", "running"), ("run:stop", "succeeded")]
    assert Run.objects.get(pk=first).status == RunStatus.SUCCEEDED


@pytest.mark.django_db
def test_writes_sent_early_in_a_block_that_rolls_back_are_sent_again_at_the_end(environment):
    """A listener makes the writes waiting for the transaction's end go out early; a nested
    block that then rolls back undoes them with its savepoint, so they go out again."""
    extensions.on_run_change(lambda run, kind: None, run_types=[RunType.EVENT])
    listener = extensions._listeners[-1]
    kept, dropped = Stream(environment=environment), Stream(environment=environment)
    try:
        with services.run_transaction():
            services.write_at_end(sql.insert_statement([kept]))
            with pytest.raises(RuntimeError), services.run_transaction():
                services.write_at_end(sql.insert_statement([dropped]))
                services.run_changed(SimpleNamespace(run_type=RunType.EVENT), "run:start")
                assert Stream.objects.filter(pk__in=[kept.pk, dropped.pk]).count() == 2
                raise RuntimeError("the nested block fails")
    finally:
        extensions._listeners.remove(listener)
    assert set(Stream.objects.values_list("pk", flat=True)) == {kept.pk}


@pytest.mark.django_db
def test_heartbeat_extends_the_lease(environment, build):
    run, _ = _two_runs(environment)
    services.run_claim(run_id=run.pk, worker="w")
    Run.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() + timedelta(seconds=1))
    assert services.heartbeat(run_id=run.pk)
    assert Run.objects.get(pk=run.pk).lease_expires_at > timezone.now() + timedelta(seconds=5)
    assert services.reap_expired_leases() == 0


@pytest.mark.django_db(transaction=True)  # the renewing thread has its own connection
def test_one_thread_renews_the_leases_of_the_runs_held_here(environment, build, settings):
    settings.HOT_RUN_LEASE_SECONDS = 1.5  # renewed every 0.5 s
    first, second = _two_runs(environment)
    for run in (first, second):
        services.run_claim(run_id=run.pk, worker="w")

    def lease(run):
        return Run.objects.get(pk=run.pk).lease_expires_at

    with execution.LeaseKeeper(first.pk), execution.LeaseKeeper(second.pk) as keeper:
        taken = {run.pk: lease(run) for run in (first, second)}
        time.sleep(2.5)  # longer than a lease
        assert all(lease(run) > taken[run.pk] for run in (first, second))
        assert services.reap_expired_leases() == 0
    assert keeper.leases._thread.name == "hot-lease"
    time.sleep(0.3)  # a renewal already under way when it was released ends first
    released = lease(first)
    time.sleep(1.0)
    assert lease(first) == released  # a released run is no longer renewed
    threads = [thread for thread in threading.enumerate() if thread.name == "hot-lease"]
    assert len(threads) == 1


@pytest.mark.django_db
def test_stats_match_the_runs_after_transitions(api, environment, build):
    runs = route(environment, "user.signup", {"email": "d@example.com"})
    runs += route(environment, "order.paid", {})
    runs += route(environment, "hot:call", {"fn": "::nope/x"})  # failed at once
    runs += route(environment, "user.signup", {"email": "e@example.com"})
    a, b, c, d, _failed, e, f = runs
    for run in (a, b, c, d):
        services.run_claim(run_id=run.pk, worker="w")
    services.run_finish(run_id=a.pk, status=RunStatus.SUCCEEDED, result=1)
    services.run_finish(run_id=b.pk, status=RunStatus.FAILED, error="x")
    services.run_cancel(run=c)  # running: only requested
    services.run_cancel(run=e)  # queued: cancelled
    Run.objects.filter(pk=d.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    services.reap_expired_leases()
    services.run_rerun(run=Run.objects.get(pk=b.pk))
    stats = api.get("/v1/runs/stats").json()["data"]
    actual = {status: Run.objects.filter(status=status).count() for status in RunStatus.values}
    assert actual == {
        "queued": 2,
        "running": 1,
        "succeeded": 1,
        "failed": 3,
        "cancelled": 1,
        "pending_retry": 0,
    }
    assert stats == {"total_runs": Run.objects.count(), **actual}
    assert f.status == RunStatus.QUEUED


@pytest.mark.django_db
def test_default_bundle_routes_to_on_signup(api, environment, project):
    deploy(api, bundles.make_bundle()[0])
    (run,) = route(environment, "user.signup", {"email": "z@example.com"})
    assert run.function == "::app::main/on-signup"
