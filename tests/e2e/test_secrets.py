"""Context secret values never leave a run (reliability review D5, S3).

A handler reads a secret and publishes it with ``send``; neither the event, the stream log, the
run that handles the sent event, the admin nor the logs show it. Derived values (transformed,
split, encoded) are not masked: that limit is documented in docs/api.md.
"""

import logging

import pytest

from events.models import Event, StreamEntry
from runs.execution import execute_run
from runs.models import Run
from runs.routing import event_route
from secrets_app.services import context_create
from tests import bundles

from .conftest import HANDLERS, SECRET, SOURCE, deploy_source

pytestmark = pytest.mark.django_db(transaction=True)

LEAKY_SOURCE = (
    SOURCE
    + """
leaky
meta {on-event: "leak.start"}
fn (event) {
  s ::hot::ctx/get("API_TOKEN")
  send("leak.sent", {secret: s, nested: [{s: s}], plain: "kept"})
  {ok: true}
}

on-leak
meta {on-event: "leak.sent"}
fn (event) { {got: event.data.secret, again: event.data.nested} }

type-leak
meta {on-event: "leak.type"}
fn (event) {
  s ::hot::ctx/get("API_TOKEN")
  send(s, {})
}
"""
)
LEAKY_HANDLERS = [
    *HANDLERS,
    bundles.Handler("leak.start", "::app::main/leaky"),
    bundles.Handler("leak.sent", "::app::main/on-leak"),
    bundles.Handler("leak.type", "::app::main/type-leak"),
]


@pytest.fixture
def leaky(project):
    context_create(project=project, key="API_TOKEN", value=SECRET)
    return deploy_source(project, LEAKY_SOURCE, LEAKY_HANDLERS)


def _publish_and_run(api, event_type: str) -> list[Run]:
    event_id = api.post(
        "/v1/events", {"event_type": event_type, "event_data": {}}, format="json"
    ).json()["data"]["event_id"]
    runs = []
    for run_id in event_route(event_id=event_id):
        execute_run(run_id=run_id)
        runs.append(Run.objects.get(pk=run_id))
    return runs


def test_events_sent_by_a_run_are_masked_everywhere(api, leaky, admin_client):
    (run,) = _publish_and_run(api, "leak.start")
    assert run.status == "succeeded", run.error
    sent = Event.objects.get(event_type="leak.sent")
    assert sent.event_data == {
        "secret": "<secret>",
        "nested": [{"s": "<secret>"}],
        "plain": "kept",
    }
    listed = api.get("/v1/events").content.decode()
    assert SECRET not in listed and "<secret>" in listed
    assert SECRET not in admin_client.get(f"/admin/events/event/{sent.pk}/change/").content.decode()

    (handling,) = [Run.objects.get(pk=run_id) for run_id in event_route(event_id=sent.pk)]
    assert SECRET not in str(handling.args)
    execute_run(run_id=handling.pk)
    handling.refresh_from_db()
    assert handling.result == {"got": "<secret>", "again": [{"s": "<secret>"}]}
    for payload in StreamEntry.objects.values_list("payload", flat=True):
        assert SECRET not in str(payload)


def test_a_secret_sent_as_the_event_type_is_refused_masked(api, leaky):
    (run,) = _publish_and_run(api, "leak.type")
    assert run.status == "failed"
    assert SECRET not in run.error and SECRET not in str(run.result)
    assert not Event.objects.filter(event_type=SECRET).exists()


def test_an_exception_quoting_a_secret_is_masked_in_the_run_and_the_log(
    api, leaky, monkeypatch, caplog
):
    from hotapi import runtime

    class Exploding(runtime.HotlangRuntime):
        def execute(self, prepared, function, args, *, hooks, limits):
            value = hooks.ctx_get("API_TOKEN")
            raise RuntimeError(f"exploded near {value}")

    monkeypatch.setattr(runtime, "get_runtime", lambda: Exploding())
    monkeypatch.setattr("runs.execution.get_runtime", lambda: Exploding())
    with caplog.at_level(logging.INFO):
        (run,) = _publish_and_run(api, "leak.start")
    assert run.status == "failed"
    assert "<secret>" in run.error and SECRET not in run.error
    assert SECRET not in caplog.text
    assert "exploded near <secret>" in caplog.text
