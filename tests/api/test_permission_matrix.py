"""Every API route × every kind of token × the permissions it holds: allowed or 403.

The routes come from the URL resolver (``hotapi.api.routes``), so a new route is walked
without being listed here; ``EXPECTED`` is the written specification of what each needs, and a
route missing from it (or declaring something else) fails. Permissions are checked before a
view looks anything up, so the ids in the URLs need not exist: an allowed request answers
whatever the view answers (200, 201, 400, 404...), a refused one 403.
"""

import uuid

import pytest
from rest_framework.test import APIClient

from environments.services import api_key_issue, service_key_create, session_create
from events.models import Stream
from hotapi.access import RESOURCE_ACTIONS, SERVICE_KEY_TYPES
from hotapi.api.routes import api_routes
from tasks.models import Task

pytestmark = pytest.mark.django_db

EXPECTED = {
    ("GET", "v1/env"): "env:* read",
    ("GET", "v1/env/quota"): "env:* read",
    ("GET", "v1/env/subscribe"): "env:* read & stream:* read",
    ("GET", "v1/org/usage"): "org:* read",
    ("GET", "v1/sessions"): "session:* read (API keys only)",
    ("POST", "v1/sessions"): "session:* create (API keys only)",
    ("DELETE", "v1/sessions"): "session:* delete (API keys only)",
    ("DELETE", "v1/sessions/<str:session_id>"): "session:* delete (API keys only)",
    ("GET", "v1/service-keys"): "key:* read (API keys only)",
    ("POST", "v1/service-keys"): "key:* create (API keys only)",
    ("DELETE", "v1/service-keys"): "key:* delete (API keys only)",
    ("GET", "v1/service-keys/<str:service_key_id>"): "key:* read (API keys only)",
    ("PATCH", "v1/service-keys/<str:service_key_id>"): "key:* update (API keys only)",
    ("DELETE", "v1/service-keys/<str:service_key_id>"): "key:* delete (API keys only)",
    ("GET", "v1/domains"): "domain:* read",
    ("POST", "v1/domains"): "domain:* create",
    ("GET", "v1/domains/<str:domain_id>"): "domain:* read",
    ("DELETE", "v1/domains/<str:domain_id>"): "domain:* delete",
    ("POST", "v1/domains/<str:domain_id>/verify"): "domain:* update",
    ("GET", "v1/projects"): "project:* read",
    ("POST", "v1/projects"): "project:* create",
    ("GET", "v1/projects/<str:project_ref>"): "project:* read",
    ("PATCH", "v1/projects/<str:project_ref>"): "project:* update",
    ("DELETE", "v1/projects/<str:project_ref>"): "project:* delete",
    ("POST", "v1/projects/<str:project_ref>/activate"): "project:* update",
    ("POST", "v1/projects/<str:project_ref>/deactivate"): "project:* update",
    ("GET", "v1/projects/<str:project_ref>/context"): "context:* read",
    ("POST", "v1/projects/<str:project_ref>/context"): "context:* create",
    ("PUT", "v1/projects/<str:project_ref>/context/<str:key>"): "context:* update",
    ("DELETE", "v1/projects/<str:project_ref>/context/<str:key>"): "context:* delete",
    ("GET", "v1/builds"): "build:* read",
    ("GET", "v1/projects/<str:project_ref>/builds"): "build:* read",
    ("POST", "v1/projects/<str:project_ref>/builds"): "build:* create",
    ("GET", "v1/projects/<str:project_ref>/builds/deployed"): "build:* read",
    ("GET", "v1/projects/<str:project_ref>/builds/live"): "build:* read",
    ("GET", "v1/projects/<str:project_ref>/builds/<str:build_id>"): "build:* read",
    ("GET", "v1/projects/<str:project_ref>/builds/<str:build_id>/download"): "build:* read",
    ("POST", "v1/projects/<str:project_ref>/builds/<str:build_id>/deploy"): "build:* create",
    ("GET", "v1/projects/<str:project_ref>/event-handlers"): "build:* read",
    ("GET", "v1/projects/<str:project_ref>/schedules"): "build:* read",
    ("GET", "v1/projects/<str:project_ref>/webhooks"): "build:* read",
    ("GET", "v1/projects/<str:project_ref>/mcp-tools"): "build:* read",
    ("GET", "v1/events"): "event:* read",
    ("POST", "v1/events"): "event:<event_type> create",
    ("POST", "v1/events/batch"): "event:<events[].event_type> create",
    ("GET", "v1/events/<str:event_id>"): "event:* read",
    ("GET", "v1/events/<str:event_id>/runs"): "event:* read & run:* read",
    (
        "POST",
        "v1/streams/subscribe-with-event",
    ): "event:<event_type> create & stream:<stream_id> read",
    ("GET", "v1/streams/<uuid:stream_id>/subscribe"): "stream:<stream_id> read",
    ("POST", "v1/streams/<uuid:stream_id>/subscribe"): "stream:<stream_id> read",
    ("GET", "v1/runs"): "run:* read",
    ("GET", "v1/runs/stats"): "run:* read",
    ("GET", "v1/runs/<str:run_id>"): "run:<run_id> read",
    ("GET", "v1/runs/<str:run_id>/vars"): "run:<run_id> read",
    ("GET", "v1/runs/<str:run_id>/logs"): "run:<run_id> read",
    ("POST", "v1/runs/<str:run_id>/cancel"): "run:<run_id> update",
    ("POST", "v1/runs/<str:run_id>/rerun"): "run:<run_id> execute",
    ("GET", "v1/runs/<str:run_id>/subscribe"): "run:<run_id> read",
    ("GET", "v1/schedules"): "schedule:* read",
    ("GET", "v1/schedules/<str:schedule_id>"): "schedule:* read",
    ("PATCH", "v1/schedules/<str:schedule_id>"): "schedule:* update",
    ("POST", "v1/schedules/<str:schedule_id>/pause"): "schedule:* update",
    ("POST", "v1/schedules/<str:schedule_id>/resume"): "schedule:* update",
    ("POST", "v1/schedules/<str:schedule_id>/trigger"): "schedule:* execute",
    ("GET", "v1/files"): "file:* read",
    ("PUT", "v1/files/upload/<path:file_path>"): "file:* create",
    ("POST", "v1/files/uploads"): "file:* create",
    ("DELETE", "v1/files/uploads/<str:upload_id>"): "file:* delete",
    ("POST", "v1/files/uploads/<str:upload_id>/complete"): "file:* create",
    ("PUT", "v1/files/uploads/<str:upload_id>/<str:part_number>"): "file:* create",
    ("GET", "v1/files/<str:file_id>"): "file:* read",
    ("DELETE", "v1/files/<str:file_id>"): "file:* delete",
    ("GET", "v1/files/<str:file_id>/download"): "file:* read",
    ("GET", "v1/blobs/<str:blob_id>/download"): "blob:* read",
    ("GET", "v1/tasks/<str:task_id>"): "stream:<task.stream_id> read",
    ("GET", "v1/tasks/<str:task_id>/subscribe"): "stream:<task.stream_id> read",
}

ROUTES = api_routes()
KINDS = ("api_key", "session", "service_key")

# Values for URL arguments and body fields: ids that need not exist (see the module doc).
VALUES = {
    "project_ref": "billing",
    "key": "API_TOKEN",
    "build_id": str(uuid.uuid4()),
    "run_id": str(uuid.uuid4()),
    "event_id": str(uuid.uuid4()),
    "stream_id": str(uuid.uuid4()),
    "session_id": str(uuid.uuid4()),
    "service_key_id": str(uuid.uuid4()),
    "domain_id": str(uuid.uuid4()),
    "file_id": str(uuid.uuid4()),
    "file_path": "matrix/data.json",
    "upload_id": str(uuid.uuid4()),
    "part_number": "1",
    "blob_id": str(uuid.uuid4()),
    "task_id": str(uuid.uuid4()),
    "schedule_id": str(uuid.uuid4()),
    "task.stream_id": str(uuid.uuid4()),
    "event_type": "order.placed",
}
VALUES["events[].event_type"] = VALUES["event_type"]  # the event types of a batch
BODIES = {
    "v1/events": {"event_type": VALUES["event_type"], "event_data": {}},
    "v1/events/batch": {"events": [{"event_type": VALUES["event_type"], "event_data": {}}]},
    "v1/streams/subscribe-with-event": {
        "event_type": VALUES["event_type"],
        "event_data": {},
        "stream_id": VALUES["stream_id"],
    },
    "v1/projects": {"name": "matrix"},
    "v1/sessions": {"permissions": {}},
    "v1/service-keys": {"permissions": {}},
    "v1/domains": {"domain": "matrix.example.com"},
}
# Streaming routes are asked something that fails after the permission check and before a
# stream opens: an unknown project filter, a malformed Last-Event-ID, unknown ids.
QUERIES = {"v1/streams/subscribe-with-event": "?project=nope"}
HEADERS = {"v1/env/subscribe": {"HTTP_LAST_EVENT_ID": "-1"}}


def _url(route: str) -> str:
    path = "/" + route
    for name, value in VALUES.items():
        for converter in ("str", "uuid", "path"):
            path = path.replace(f"<{converter}:{name}>", value)
    assert "<" not in path, f"{route}: give the matrix a value for {path}"
    return path + QUERIES.get(route, "")


def _requirements(spec: str) -> list[tuple[str, str]]:
    """``"event:<event_type> create & stream:* read"`` → [(resource, action), ...]."""
    spec = spec.removesuffix(" (API keys only)")
    pairs = []
    for part in spec.split(" & "):
        resource, action = part.split(" ")
        for name, value in VALUES.items():
            resource = resource.replace(f"<{name}>", value)
        pairs.append((resource, action))
    return pairs


def _decoy(resource: str, action: str) -> dict:
    """A near miss of ``resource``/``action``: the same type on another resource, or another
    action on it, or another type."""
    kind, _, path = resource.partition(":")
    if path != "*":
        return {f"{kind}:{uuid.uuid4()}": [action]}
    others = [other for other in RESOURCE_ACTIONS[kind] if other != action]
    if others:
        return {resource: others}
    return {"webhook:*": ["execute"]} if kind == "mcp" else {"mcp:*": ["execute"]}


@pytest.fixture(autouse=True)
def _task(environment):
    """Reading a task needs read on its stream, known once the task is: this one exists (a
    task of no run, in a state the task views answer with 200, 404 or an SSE stream)."""
    stream = Stream.objects.create(id=VALUES["task.stream_id"], environment=environment)
    Task.objects.create(
        id=VALUES["task_id"],
        environment=environment,
        stream=stream,
        function_name="::matrix/task",
        timeout_ms=1000,
        status="completed",
    )


@pytest.fixture
def full_key(environment):
    return api_key_issue(environment=environment, name="issuer").api_key


def _token(kind: str, permissions: dict, environment, full_key) -> str | None:
    """A token of ``kind`` holding ``permissions``; None when that kind cannot hold them."""
    if kind == "api_key":
        return api_key_issue(environment=environment, permissions=permissions).token
    if kind == "session":
        return session_create(api_key=full_key, permissions=permissions).token
    if any(resource.partition(":")[0] not in SERVICE_KEY_TYPES for resource in permissions):
        return None
    return service_key_create(api_key=full_key, permissions=permissions).token


def _call(route, token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", **HEADERS.get(route.route, {}))
    method = route.method.lower()
    if method in ("post", "put", "patch"):
        body = BODIES.get(route.route, {})
        return getattr(client, method)(_url(route.route), body, format="json")
    return getattr(client, method)(_url(route.route))


def _assert_allowed(response, label):
    assert response.status_code not in (401, 403), (label, response.status_code, response.content)


def _assert_refused(response, label):
    assert response.status_code == 403, (label, response.status_code, response.content)
    assert response.json()["error"]["code"] == "forbidden", label


def test_every_route_declares_the_specified_permission():
    declared = {(route.method, route.route): route.rule for route in ROUTES}
    undeclared = [key for key, rule in declared.items() if rule is None]
    assert not undeclared, f"routes without permission_rules: {undeclared}"
    unspecified = sorted(set(declared) - set(EXPECTED))
    assert not unspecified, f"add these routes to EXPECTED: {unspecified}"
    assert not set(EXPECTED) - set(declared), "EXPECTED lists routes that no longer exist"
    for key, rule in declared.items():
        assert rule.describe() == EXPECTED[key], key


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: f"{route.method} {route.route}")
def test_route_allows_exactly_what_is_granted(route, kind, environment, full_key):
    spec = EXPECTED[(route.method, route.route)]
    api_key_only = spec.endswith("(API keys only)")
    needed = _requirements(spec)
    exact = {}
    for resource, action in needed:
        exact.setdefault(resource, []).append(action)

    everything = (
        {"*:*": ["*"]}
        if kind != "service_key"
        else {f"{kind_}:*": ["*"] for kind_ in SERVICE_KEY_TYPES}
    )
    token = _token(kind, everything, environment, full_key)
    if api_key_only and kind != "api_key":
        _assert_refused(_call(route, token), "credential management needs an API key")
        return
    exact_token = _token(kind, exact, environment, full_key)
    if exact_token is None:  # a service key cannot hold an administrative permission
        _assert_refused(_call(route, token), "service key with every type it may hold")
        return
    _assert_allowed(_call(route, token), "full access")
    _assert_allowed(_call(route, exact_token), f"exactly {exact}")
    _assert_refused(_call(route, _token(kind, {}, environment, full_key)), "no permissions")
    for missing in range(len(needed)):
        held = {}
        for index, (resource, action) in enumerate(needed):
            grant = _decoy(resource, action) if index == missing else {resource: [action]}
            for granted, actions in grant.items():
                held.setdefault(granted, []).extend(actions)
        _assert_refused(_call(route, _token(kind, held, environment, full_key)), f"only {held}")
