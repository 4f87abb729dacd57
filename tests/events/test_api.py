"""Publishing and reading events over HTTP; dispatch after commit and the sweep."""

import uuid

import pytest
from django.db import connection

from events.models import Event, Stream, StreamEntry
from events.services import EventSource, event_publish
from runs.models import Run
from runs.routing import event_route, sweep_undispatched
from tests.runs import deploy

pytestmark = pytest.mark.django_db

URL = "/v1/events"
SEED_FIELDS = {
    "event_id",
    "env_id",
    "stream_id",
    "event_type",
    "event_data",
    "event_time",
    "created_at",
}


@pytest.fixture
def enqueued(monkeypatch):
    """Calls of route_event.delay, recorded instead of sent to the broker."""
    calls: list = []
    monkeypatch.setattr("runs.tasks.route_event.delay", lambda *args: calls.append(args))
    monkeypatch.setattr("runs.tasks.execute_run.delay", lambda *args: None)
    return calls


def publish(api, event_type="user.signup", event_data=None, **extra):
    body = {"event_type": event_type, "event_data": event_data, **extra}
    return api.post(URL, body, format="json")


def assert_400(response, field):
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert field in error["details"], error


# --- publish ---------------------------------------------------------------------------------


def test_publish_shape(api, environment, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = publish(api, "user.signup", {"email": "ann@example.com"})
    assert response.status_code == 201
    data = response.json()["data"]
    assert set(data) == SEED_FIELDS
    event = Event.objects.get()
    assert data["event_id"] == str(event.id)
    assert data["env_id"] == str(environment.id)
    assert data["stream_id"] == str(event.stream_id)
    assert data["event_type"] == "user.signup"
    assert data["event_data"] == {"email": "ann@example.com"}
    assert data["event_time"].endswith("Z") and data["created_at"].endswith("Z")
    assert Stream.objects.get(pk=event.stream_id).environment_id == environment.id
    assert enqueued == [(str(event.id),)]  # routing is dispatched after commit
    entry = StreamEntry.objects.get(stream_id=event.stream_id)
    assert entry.kind == "event:created" and entry.payload["event_id"] == str(event.id)


@pytest.mark.django_db(transaction=True)
def test_a_publish_writes_its_stream_event_and_entry_together_then_dispatches(
    api, environment, enqueued, django_assert_max_num_queries
):
    """Outside a transaction (as a request without an Idempotency-Key runs it), on PostgreSQL
    one statement string, which the database runs as one transaction; dispatched after it."""
    budget = 1 if connection.vendor == "postgresql" else 5  # BEGIN, 3 inserts, COMMIT
    with django_assert_max_num_queries(budget):
        event = event_publish(
            environment=environment,
            event_type="user.signup",
            event_data={"email": "one@example.com"},
            source=EventSource.CLIENT,
        )
    assert enqueued == [(str(event.id),)]
    stored = Event.objects.get(pk=event.pk)
    assert stored.event_data == {"email": "one@example.com"} and stored.created_at is not None
    assert Stream.objects.filter(pk=event.stream_id, environment=environment).exists()
    (entry,) = StreamEntry.objects.filter(stream_id=event.stream_id)
    assert entry.kind == "event:created" and entry.payload["event_id"] == str(event.id)


def test_routing_is_not_dispatched_before_commit(api, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert publish(api, "a.b", 1).status_code == 201
    assert enqueued == [] and len(callbacks) >= 1


@pytest.mark.parametrize(
    "value",
    [None, {}, {"nested": {"list": [1, "two", None, True]}}, [1, 2, 3], "text", 42, 1.5, False, ""],
)
def test_event_data_may_be_any_json(api, enqueued, value):
    response = publish(api, "thing.happened", value)
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["event_data"] == value
    event_id = response.json()["data"]["event_id"]
    assert api.get(f"{URL}/{event_id}").json()["data"]["event_data"] == value
    assert Event.objects.get(pk=event_id).event_data == value


def test_event_data_is_required(api, enqueued):
    assert_400(api.post(URL, {"event_type": "a.b"}, format="json"), "event_data")
    assert Event.objects.count() == 0


def test_event_type_is_required(api, enqueued):
    assert_400(api.post(URL, {"event_data": 1}, format="json"), "event_type")


@pytest.mark.parametrize(
    "event_type",
    [
        "",
        "x" * 256,
        "has space",
        "-leading-dash",
        ".dot",
        "semi;colon",
        "emoji🙂",
        "a\nb",
        "é",
        " user.signup",
        "user.signup ",
    ],
)
def test_invalid_event_types(api, enqueued, event_type):
    assert_400(publish(api, event_type, {}), "event_type")
    assert Event.objects.count() == 0


@pytest.mark.parametrize("event_type", [123, None, ["a"], {"a": 1}, True])
def test_non_string_event_type(api, enqueued, event_type):
    assert_400(publish(api, event_type, {}), "event_type")


@pytest.mark.parametrize(
    "event_type", ["x" * 255, "a", "user.signup", "Order_Paid-v2", "ns/thing:happened", "9lives"]
)
def test_valid_event_types(api, enqueued, event_type):
    response = publish(api, event_type, {})
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["event_type"] == event_type


@pytest.mark.parametrize("event_type", ["hot:schedule", "hot:anything", "hot:call:x"])
def test_reserved_hot_types_are_forbidden(api, enqueued, event_type):
    response = publish(api, event_type, {})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert Event.objects.count() == 0


def test_hot_call_may_be_published(api, enqueued):
    response = publish(api, "hot:call", {"fn": "::app::main/on-signup", "args": []})
    assert response.status_code == 201
    assert response.json()["data"]["event_type"] == "hot:call"


def test_unknown_fields_are_refused(api, enqueued):
    assert_400(publish(api, "a.b", {}, colour="blue"), "colour")
    assert Event.objects.count() == 0


def test_unknown_stream_id_is_created(api, environment, enqueued):
    stream_id = str(uuid.uuid4())
    response = publish(api, "a.b", {}, stream_id=stream_id)
    assert response.status_code == 201
    assert response.json()["data"]["stream_id"] == stream_id
    assert Stream.objects.get(pk=stream_id).environment_id == environment.id
    again = publish(api, "a.c", {}, stream_id=stream_id)
    assert again.status_code == 201 and again.json()["data"]["stream_id"] == stream_id
    assert Stream.objects.filter(pk=stream_id).count() == 1
    assert Event.objects.filter(stream_id=stream_id).count() == 2


def test_without_stream_id_each_event_gets_a_new_stream(api, enqueued):
    first = publish(api, "a.b", {}).json()["data"]["stream_id"]
    second = publish(api, "a.b", {}).json()["data"]["stream_id"]
    assert first != second


def test_another_environments_stream_is_404(api, other_api, enqueued):
    stream_id = publish(other_api, "a.b", {}).json()["data"]["stream_id"]
    response = publish(api, "a.b", {}, stream_id=stream_id)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Event.objects.count() == 1


@pytest.mark.parametrize("stream_id", ["not-a-uuid", "1234", 5, ""])
def test_malformed_stream_id_is_400(api, enqueued, stream_id):
    assert_400(publish(api, "a.b", {}, stream_id=stream_id), "stream_id")


def test_non_object_body_is_400(api, enqueued):
    assert api.post(URL, [1, 2], format="json").status_code == 400
    assert api.post(URL, "x", content_type="application/json").status_code == 400


# --- read ------------------------------------------------------------------------------------


def test_list_newest_first_with_pagination(api, enqueued):
    published = [publish(api, f"e.n{n}", n).json()["data"]["event_id"] for n in range(5)]
    newest = list(reversed(published))
    body = api.get(URL).json()
    assert [e["event_id"] for e in body["data"]] == newest
    assert body["pagination"] == {"total": 5, "limit": 20, "offset": 0, "has_more": False}
    assert set(body["data"][0]) == SEED_FIELDS
    page = api.get(f"{URL}?limit=2&offset=2").json()
    assert [e["event_id"] for e in page["data"]] == newest[2:4]
    assert page["pagination"] == {"total": 5, "limit": 2, "offset": 2, "has_more": True}
    assert api.get(f"{URL}?limit=abc").status_code == 400


def test_get_event(api, enqueued):
    data = publish(api, "a.b", {"k": "v"}).json()["data"]
    response = api.get(f"{URL}/{data['event_id']}")
    assert response.status_code == 200
    assert response.json()["data"] == data


@pytest.mark.parametrize("event_id", [str(uuid.uuid4()), "nope", "123"])
def test_unknown_event_is_404(api, enqueued, event_id):
    for path in (f"{URL}/{event_id}", f"{URL}/{event_id}/runs"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_event_runs_after_routing(api, project, enqueued):
    build = deploy(api)
    data = publish(api, "user.signup", {"email": "ann@example.com"}).json()["data"]
    assert api.get(f"{URL}/{data['event_id']}/runs").json()["data"] == []  # not routed yet
    event_route(event_id=data["event_id"])
    body = api.get(f"{URL}/{data['event_id']}/runs").json()
    assert body["pagination"]["total"] == 1
    (run,) = body["data"]
    assert run["event_id"] == data["event_id"] and run["stream_id"] == data["stream_id"]
    assert run["build_id"] == str(build.id) and run["run_type"] == "event"
    assert run["status"] == "queued" and run["project_name"] == "billing"
    assert run["function"] == "::app::main/on-signup"
    unmatched = publish(api, "user.deleted", {}).json()["data"]
    event_route(event_id=unmatched["event_id"])
    assert api.get(f"{URL}/{unmatched['event_id']}/runs").json()["data"] == []


def test_other_environment_cannot_read_events(api, other_api, project, enqueued):
    deploy(api)
    event_id = publish(api, "user.signup", {"email": "x@example.com"}).json()["data"]["event_id"]
    event_route(event_id=event_id)
    assert other_api.get(URL).json()["data"] == []
    for path in (f"{URL}/{event_id}", f"{URL}/{event_id}/runs"):
        response = other_api.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert len(api.get(URL).json()["data"]) == 1


def test_unauthenticated_is_401(client):
    assert client.get(URL).status_code == 401
    assert client.post(URL, {"event_type": "a", "event_data": 1}).status_code == 401


# --- broker outage ---------------------------------------------------------------------------


def test_event_is_kept_when_enqueueing_fails_and_the_sweep_routes_it_once(
    api, project, monkeypatch, django_capture_on_commit_callbacks
):
    deploy(api)

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unavailable")

    monkeypatch.setattr("runs.tasks.route_event.delay", broker_down)
    monkeypatch.setattr("runs.tasks.execute_run.delay", lambda *args: None)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = publish(api, "user.signup", {"email": "late@example.com"})
    assert callbacks, "routing must be dispatched on commit"
    assert response.status_code == 201
    event = Event.objects.get(pk=response.json()["data"]["event_id"])
    assert event.dispatched_at is None and Run.objects.count() == 0
    assert api.get(f"{URL}/{event.id}").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_undispatched(older_than_seconds=0) == 1
    event.refresh_from_db()
    assert event.dispatched_at is not None and event.handled_runs == 1
    (run,) = Run.objects.filter(event=event)
    assert run.function == "::app::main/on-signup"
    assert sweep_undispatched(older_than_seconds=0) == 0
    assert Run.objects.filter(event=event).count() == 1
    assert [r["run_id"] for r in api.get(f"{URL}/{event.id}/runs").json()["data"]] == [str(run.pk)]


def test_sweep_leaves_recent_events_to_the_normal_dispatch(api, enqueued):
    publish(api, "a.b", {})
    assert sweep_undispatched(older_than_seconds=60) == 0
    assert Event.objects.get().dispatched_at is None


def test_stream_log_retention(api):
    from datetime import timedelta

    from django.utils import timezone

    from events.models import StreamEntry
    from events.streamlog import prune

    api.post("/v1/events", {"event_type": "a.b", "event_data": {}}, format="json")
    api.post("/v1/events", {"event_type": "a.c", "event_data": {}}, format="json")
    old = StreamEntry.objects.order_by("id").first()
    StreamEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    assert prune(older_than_days=7) == 1
    assert not StreamEntry.objects.filter(pk=old.pk).exists()
    assert StreamEntry.objects.count() == 1


def test_event_bodies_may_be_much_larger_than_other_bodies(api, settings):
    """Event payloads up to HOT_MAX_EVENT_BODY_BYTES; other JSON bodies up to
    HOT_MAX_JSON_BODY_BYTES (both 413 beyond, with the limit in the message)."""
    settings.HOT_MAX_JSON_BODY_BYTES = 1024 * 1024
    settings.HOT_MAX_EVENT_BODY_BYTES = 4 * 1024 * 1024
    text = "x" * (3 * 1024 * 1024)
    response = api.post(
        "/v1/events", {"event_type": "doc.uploaded", "event_data": {"text": text}}, format="json"
    )
    assert response.status_code == 201
    assert len(api.get(f"/v1/events/{response.json()['data']['event_id']}").content) > len(text)

    too_big = {"event_type": "doc.uploaded", "event_data": {"text": "x" * (5 * 1024 * 1024)}}
    response = api.post("/v1/events", too_big, format="json")
    assert response.status_code == 413
    assert response.json()["error"]["message"] == f"Request body exceeds {4 * 1024 * 1024} bytes"

    response = api.post("/v1/projects", {"name": "x" * (2 * 1024 * 1024)}, format="json")
    assert response.status_code == 413
