"""Idempotency-Key on publish, rerun and deploy; batch publish."""

import gc
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.serializers import BaseSerializer
from rest_framework.test import APIClient

from events.models import Event, StreamEntry
from hotapi.api.idempotency import prune_idempotency_records
from hotapi.models import IdempotencyRecord
from runs.models import Run
from tests import bundles

BODY = {"event_type": "order.paid", "event_data": {"amount": 12}}


def publish(api, body=BODY, key="key-1"):
    return api.post("/v1/events", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_the_same_key_and_body_replays_the_first_answer(api):
    first = publish(api)
    again = publish(api)
    assert first.status_code == again.status_code == 201
    assert again.json()["data"] == first.json()["data"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Event.objects.count() == 1
    assert StreamEntry.objects.filter(kind="event:created").count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_409(api):
    publish(api)
    response = publish(api, {**BODY, "event_data": {"amount": 13}})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Event.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_per_environment_and_expire(api, other_api, settings):
    publish(api)
    assert publish(other_api).status_code == 201  # the other environment's own key
    assert Event.objects.count() == 2
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "Idempotent-Replayed" not in publish(api)  # expired: a new event
    assert Event.objects.count() == 3
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert prune_idempotency_records() == 2


@pytest.mark.django_db
def test_a_refused_request_keeps_no_record(api):
    bad = publish(api, {"event_type": "hot:schedule", "event_data": {}})
    assert bad.status_code == 403
    assert IdempotencyRecord.objects.count() == 0
    assert publish(api, {"event_type": "hot:schedule", "event_data": {}}).status_code == 403
    assert publish(api).status_code == 201  # the key is still free for a corrected request


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\tkey", "ünï"])
def test_malformed_keys_are_400(api, key):
    response = publish(api, key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["message"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_publish_one_event(environment, api):
    barrier = threading.Barrier(8)
    answers: list = []

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.token}")
        try:
            barrier.wait(timeout=10)
            answers.append(publish(client, key="concurrent"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [answer.status_code for answer in answers] == [201] * 8
    assert len({answer.json()["data"]["event_id"] for answer in answers}) == 1
    assert Event.objects.count() == 1
    assert sum(1 for answer in answers if "Idempotent-Replayed" in answer) == 7


@pytest.mark.django_db
def test_rerun_with_a_key_makes_one_rerun(api, environment):
    from events.services import EventSource, event_publish
    from runs.services import run_create

    event = event_publish(
        environment=environment, event_type="x.y", event_data={}, source=EventSource.CLIENT
    )
    run = run_create(
        environment_id=environment.id,
        stream_id=event.stream_id,
        event_id=event.id,
        run_type="event",
        function="::app::main/x",
        args=[],
        route_key="handler:x",
    )
    first = api.post(f"/v1/runs/{run.pk}/rerun", HTTP_IDEMPOTENCY_KEY="rerun-1")
    again = api.post(f"/v1/runs/{run.pk}/rerun", HTTP_IDEMPOTENCY_KEY="rerun-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["data"]["run_id"] == again.json()["data"]["run_id"]
    assert Run.objects.filter(origin_run=run).count() == 1
    other = api.post(f"/v1/runs/{uuid.uuid4()}/rerun", HTTP_IDEMPOTENCY_KEY="rerun-1")
    assert other.status_code == 409  # same key, another path


@pytest.mark.django_db
def test_deploy_with_a_key_bumps_the_sequence_once(api, project):
    from tests.runs import upload  # noqa: PLC0415

    build_id = upload(api, bundles.make_bundle()[0])
    path = f"/v1/projects/billing/builds/{build_id}/deploy"
    first = api.post(path, HTTP_IDEMPOTENCY_KEY="deploy-1")
    again = api.post(path, HTTP_IDEMPOTENCY_KEY="deploy-1")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    project.refresh_from_db()
    assert project.deployment_sequence == 1


# --- batch publish ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_batch_publishes_each_item_with_its_own_result(api, other_api):
    foreign_stream = other_api.post("/v1/events", BODY, format="json").json()["data"]["stream_id"]
    shared = str(uuid.uuid4())
    items = [
        {"event_type": "a.b", "event_data": {"n": 1}},
        {"event_type": "hot:schedule", "event_data": {}},  # reserved: 403
        {"event_type": "a.b", "event_data": {"n": 2}, "stream_id": shared},
        {"event_type": "bad type!", "event_data": {}},  # invalid: 400
        {"event_type": "a.b", "event_data": {"n": 3}, "stream_id": shared},
        {"event_type": "a.b", "event_data": {}, "stream_id": foreign_stream},  # 404
    ]
    response = api.post("/v1/events/batch", {"events": items}, format="json")
    assert response.status_code == 200
    results = response.json()["data"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["status"] for r in results] == [201, 403, 201, 400, 201, 404]
    assert results[1]["error"]["code"] == "forbidden"
    assert "event_type" in results[3]["error"]["details"]
    assert list(results[3]["error"]["details"]) == ["event_type"]
    assert results[2]["event"]["stream_id"] == results[4]["event"]["stream_id"] == shared
    assert results[0]["event"]["stream_id"] != shared
    published = Event.objects.filter(environment__api_keys=api.api_key)
    assert published.count() == 3
    assert StreamEntry.objects.filter(kind="event:created", stream_id=shared).count() == 2
    listed = {e["event_id"] for e in api.get("/v1/events").json()["data"]}
    assert {results[i]["event"]["event_id"] for i in (0, 2, 4)} <= listed


@pytest.mark.django_db
def test_batch_item_with_an_unknown_field_is_refused_alone(api):
    items = [{**BODY, "colour": "red"}, BODY]
    results = api.post("/v1/events/batch", {"events": items}, format="json").json()["data"]
    assert [r["status"] for r in results] == [400, 201]
    assert results[0]["error"]["details"] == {"colour": ["Unknown field."]}
    assert Event.objects.count() == 1


def _batch_garbage(api, count: int) -> list:
    """Everything only the cycle collector frees after one batch of ``count`` events."""
    items = [{"event_type": "bulk.item", "event_data": {"n": n}} for n in range(count)]
    gc.collect()
    gc.disable()  # no automatic collection during the request: all its garbage is counted
    try:
        response = api.post("/v1/events/batch", {"events": items}, format="json")
        assert response.status_code == 200
        del response
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@pytest.mark.django_db
def test_batch_leaves_no_cyclic_garbage_per_event(api):
    # A serializer per item (two per published event) left ~95 objects per event to the cycle
    # collector; under the served collector thresholds (hotapi.wsgi) a gunicorn worker grew by
    # ~6 MiB per 500-event request.
    _batch_garbage(api, 10)  # first request: lazily built caches
    small, large = _batch_garbage(api, 10), _batch_garbage(api, 410)
    assert sum(isinstance(thing, BaseSerializer) for thing in large) <= 5
    assert len(large) - len(small) < 10 * 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [{}, {"events": []}, {"events": "x"}, {"events": [BODY] * 1001}, {"events": [BODY], "x": 1}],
)
def test_batch_refuses_a_malformed_body_whole(api, body):
    response = api.post("/v1/events/batch", body, format="json")
    assert response.status_code == 400
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_batch_of_a_thousand_and_its_idempotency(api):
    items = [{"event_type": "bulk.item", "event_data": {"n": n}} for n in range(1000)]
    first = api.post(
        "/v1/events/batch", {"events": items}, format="json", HTTP_IDEMPOTENCY_KEY="batch-1"
    )
    assert first.status_code == 200
    assert {r["status"] for r in first.json()["data"]} == {201}
    again = api.post(
        "/v1/events/batch", {"events": items}, format="json", HTTP_IDEMPOTENCY_KEY="batch-1"
    )
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["data"] == first.json()["data"]
    assert Event.objects.count() == 1000
