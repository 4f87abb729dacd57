"""Large payloads kept as blobs: what is spilled, what the API gives back, and who may read a
blob. (The 20 MiB round trip through a live server and a worker is in tests/e2e.)"""

import pytest

from events.models import Event
from events.services import EventSource, event_publish
from files.blobs import BLOB_REF_TYPE, Rehydrator, is_blob_ref, spilling
from files.models import Blob
from runs import execution
from runs.models import Run
from runs.routing import event_route
from tests.runs import deploy, hot_bundle

pytestmark = pytest.mark.django_db(transaction=True)

THRESHOLD = 1000


@pytest.fixture(autouse=True)
def _small_threshold(settings):
    settings.HOT_BLOB_THRESHOLD_BYTES = THRESHOLD


def spill(environment, value, **options):
    with spilling(environment_id=environment.id, source="test") as work:
        return work(value, **options)


def test_small_payloads_stay_as_they_are(environment):
    value = {"a": "x" * 100, "n": [1, 2.5, None, True], "nested": {"b": "y"}}
    assert spill(environment, value) == value
    assert spill(environment, "short") == "short" and spill(environment, 7) == 7
    assert Blob.objects.count() == 0


def test_large_strings_bytes_and_containers_become_references(environment):
    text = "é" * 600  # 1,200 bytes of UTF-8 in 600 characters
    raw = {"$type": "::hot::type/Bytes", "$val": list(range(256)) * 4}
    many = [{"i": index} for index in range(200)]
    value = {"doc": text, "raw": raw, "many": many, "small": "keep"}
    stored = spill(environment, value, inline_root=True)
    assert stored["small"] == "keep"
    assert {stored[key]["$val"]["encoding"] for key in ("doc", "raw", "many")} == {
        "string",
        "bytes",
        "json",
    }
    assert stored["doc"]["$val"]["size"] == 1200 and stored["doc"]["$val"]["preview"].startswith(
        "é"
    )
    assert Blob.objects.count() == 3
    assert Rehydrator(environment.id)(stored) == value


def test_a_large_root_is_kept_whole_unless_it_must_stay_inline(environment):
    many = [{"i": index} for index in range(300)]
    assert is_blob_ref(spill(environment, many))
    inline = spill(environment, {"fn": "::a/b", "args": many}, inline_root=True)
    assert inline["fn"] == "::a/b" and is_blob_ref(inline["args"])


def test_a_failed_block_leaves_no_blob_object(environment, storage_dir):
    with pytest.raises(RuntimeError), spilling(environment_id=environment.id, source="t") as work:
        work("x" * 5000)
        raise RuntimeError("rolled back")
    assert Blob.objects.count() == 0
    assert not any(path.is_file() for path in (storage_dir / "files").rglob("*"))


def test_events_keep_large_data_as_blobs_and_the_api_returns_it_whole(api):
    document = "lorem ipsum " * 1000
    response = api.post(
        "/v1/events",
        {"event_type": "doc.added", "event_data": {"title": "t", "body": document}},
        format="json",
    )
    assert response.status_code == 201
    created = response.json()["data"]
    assert created["event_data"]["body"] == document
    row = Event.objects.get(pk=created["event_id"])
    assert row.event_data["title"] == "t" and row.event_data["body"]["$type"] == BLOB_REF_TYPE

    got = api.get(f"/v1/events/{created['event_id']}").json()["data"]
    assert got["event_data"] == {"title": "t", "body": document}
    listed = api.get("/v1/events").json()["data"]
    assert listed[0]["event_data"]["body"] == document

    blob_id = row.event_data["body"]["$val"]["id"]
    download = api.get(f"/v1/blobs/{blob_id}/download")
    assert download.status_code == 200
    assert download["Content-Type"] == "text/plain; charset=utf-8"
    assert download["Content-Disposition"] == f'attachment; filename="blob-{blob_id}"'
    assert b"".join(download.streaming_content) == document.encode()


def test_batches_keep_large_data_as_blobs(api):
    body = {"events": [{"event_type": "a", "event_data": {"d": "z" * 3000}} for _ in range(3)]}
    response = api.post("/v1/events/batch", body, format="json")
    assert response.status_code == 200, response.json()
    assert Blob.objects.count() == 3
    assert all(is_blob_ref(event.event_data["d"]) for event in Event.objects.all())
    assert api.get("/v1/events").json()["data"][0]["event_data"] == {"d": "z" * 3000}


def test_past_the_response_budget_references_are_shown(api, settings):
    settings.HOT_BLOB_INLINE_MAX_BYTES = 5000
    for _ in range(3):
        api.post("/v1/events", {"event_type": "a", "event_data": {"d": "q" * 3000}}, format="json")
    listed = api.get("/v1/events").json()["data"]
    bodies = [event["event_data"]["d"] for event in listed]
    assert bodies[0] == "q" * 3000
    assert [is_blob_ref(body) for body in bodies[1:]] == [True, True]


def test_blobs_are_private_to_their_environment(api, other_api, environment, other_environment):
    event = event_publish(
        environment=environment,
        event_type="a",
        event_data={"d": "s" * 3000},
        source=EventSource.CLIENT,
    )
    blob_id = Event.objects.get(pk=event.pk).event_data["d"]["$val"]["id"]
    assert other_api.get(f"/v1/blobs/{blob_id}/download").status_code == 404
    assert api.get("/v1/blobs/not-an-id/download").status_code == 404
    # A reference to another environment's blob, sent as data, is never resolved.
    forged = {"$type": BLOB_REF_TYPE, "$val": {"id": blob_id, "encoding": "string", "size": 3}}
    other_api.post("/v1/events", {"event_type": "a", "event_data": {"x": forged}}, format="json")
    shown = other_api.get("/v1/events").json()["data"][0]["event_data"]
    assert shown == {"x": forged}


SOURCE = """\
::app::main ns

echo
meta {on-event: "doc.echo"}
fn (event) {
  body event.data.body
  {length: length(body), body: body}
}
"""


def test_run_results_and_variables_keep_large_values_as_blobs(api, environment, project):
    deploy(api, hot_bundle(SOURCE, [("doc.echo", "echo")]))
    document = "abc" * 2000
    event = event_publish(
        environment=environment,
        event_type="doc.echo",
        event_data={"body": document},
        source=EventSource.CLIENT,
    )
    (run_id,) = event_route(event_id=event.pk)
    assert execution.execute_run(run_id=run_id) == "succeeded"
    run = Run.objects.get(pk=run_id)
    assert is_blob_ref(run.args[0]["data"]["body"])  # the handler got it from the event's row
    assert is_blob_ref(run.result["body"]) and run.result["length"] == 6000
    (body_var,) = [row for row in run.variables.all() if row.var == "body"]
    assert is_blob_ref(body_var.value)

    got = api.get(f"/v1/runs/{run_id}").json()["data"]
    assert got["result"] == {"length": 6000, "body": document}
    assert api.get(f"/v1/runs/{run_id}/vars").json()["data"][0]["value"] == document
