"""A real handler through the API and a real worker: it fetches JSON from a local HTTP server,
keeps a record in a store, streams progress and logs, with a secret set by the code masked in
its logs and stream data."""

import uuid

import pytest

from events.models import StreamEntry
from hotapi.celery import app as celery_app
from stores.models import StoreEntry
from tests import bundles
from tests.httpserver import LocalHttpServer
from tests.worker import WorkerProcess, wait_for

from .conftest import deploy_source

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SOURCE = """\
::app::io ns

::http ::hot::http
::store ::hot::store

on-import
meta {on-event: "user.import"}
fn (event) {
  ::hot::ctx/set-secret("session.token", "sess-very-secret-42")
  data("progress", {step: "fetching"})
  response ::http/get(`${event.data.base}/json`)
  user response.body
  println(`fetched ${user.name} with sess-very-secret-42`)
  users ::store/Map({name: "users"})
  ::store/put(users, user.name, user)
  data("progress", {step: "stored", token: ::hot::ctx/get("session.token")})
  greeting ::hot::resource/load-str("prompts/hello.txt")
  {status: response.status, stored: ::store/length(users), name: ::store/get(users, "Ada").name,
   greeting: greeting, found: ::hot::coll/length(::hot::resource/list-matching("prompts/*.txt"))}
}
"""


@pytest.fixture
def io_worker(tmp_path, storage_dir):
    """A worker of its own queue, allowed to reach the test's HTTP server on loopback."""
    with LocalHttpServer() as server:
        queue = f"hot-io-{uuid.uuid4().hex[:8]}"
        previous = celery_app.conf.task_default_queue
        celery_app.conf.task_default_queue = queue
        worker = WorkerProcess(
            queue,
            tmp_path / "worker.log",
            HOT_CELERY_QUEUE=queue,
            HOT_EGRESS_ALLOW=f"127.0.0.1:{server.port}",
        )
        try:
            yield server, worker
        finally:
            worker.stop()
            celery_app.conf.task_default_queue = previous


def test_fetch_store_stream_and_log_through_the_api(api, project, io_worker):
    server, worker = io_worker
    deploy_source(
        project,
        SOURCE,
        handlers=[bundles.Handler("user.import", "::app::io/on-import")],
        resources={"prompts/hello.txt": "Hello from a resource"},
    )
    response = api.post(
        "/v1/events",
        {"event_type": "user.import", "event_data": {"base": server.url}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    event = response.json()["data"]

    def finished():
        runs = api.get(f"/v1/events/{event['event_id']}/runs").json()["data"]
        return runs if runs and runs[0]["status"] in ("succeeded", "failed") else None

    (run,) = wait_for(finished, timeout=60, message="the run")
    assert run["status"] == "succeeded", (run, worker.output()[-3000:])
    assert run["result"] == {
        "status": 200,
        "stored": 1,
        "name": "Ada",
        "greeting": "Hello from a resource",
        "found": 1,
    }
    assert (
        StoreEntry.objects.filter(map__name="users", map__environment=project.environment).count()
        == 1
    )

    logs = api.get(f"/v1/runs/{run['run_id']}/logs?limit=10").json()
    messages = [line["message"] for line in logs["data"]]
    assert messages[0].startswith(f"http GET {server.url}/json -> 200 in ")
    assert messages[1] == "fetched Ada with <secret>"
    assert logs["pagination"]["total"] == 2
    assert "sess-very-secret" not in str(logs)

    entries = StreamEntry.objects.filter(stream_id=event["stream_id"]).order_by("id")
    data = [e.payload for e in entries if e.kind == "stream:data"]
    assert [d["payload"]["step"] for d in data] == ["fetching", "stored"]
    assert data[1]["payload"]["token"] == "<secret>"
    assert [e.payload["message"] for e in entries if e.kind == "run:log"] == messages
