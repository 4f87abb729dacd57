"""Query budgets: no list endpoint does per-row queries (N+1), and publish → run stays within
its statement budget. Each list is filled with several rows, so a query per row would blow the
budget; the budgets are today's counts with a little headroom. (The publish → run count is the
thread that routes and executes; the runtime's hooks and the lease keeper query on their own
threads, see bench/README.md for the statements per run in all.)"""

from io import BytesIO

import pytest
from django.db import connection

from domains.services import domain_create
from environments.services import service_key_create, session_create
from events.services import EventSource, event_publish
from files.models import Blob
from files.services import file_write
from projects.models import Project
from runs import execution
from runs.models import Run
from runs.routing import event_route
from secrets_app.services import context_create
from tests import bundles
from tests.runs import deploy, hot_bundle

# Runs execute in-process, and the runtime does its database work on helper threads.
pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 6
# Authentication, the resource's scope (project), the count and the page: a list never needs
# more, however many rows it shows.
LIST_BUDGET = 5
# The first run of a deployment, savepoints, first counter rows and the worker's one-time
# preparation of the build (its handlers, schedules, webhooks and MCP tools) included (was 58
# for both, then 37 and 38). On PostgreSQL a publish is one statement string, routing sends its
# writes together at its end, and a finished run is one statement (its status, entry, variables
# and counters) with the look for waiting runs in the same round trip (D77).
PUBLISH_TO_RUN_BUDGET = {"postgresql": 15, "sqlite": 30}

SOURCE = """\
::app::main ns

on-signup
meta {on-event: "user.signup"}
fn (event) {
  email event.data.email
  println("welcoming", email)
  name "someone"
  notes event.data.notes
  {welcomed: email, name: name, notes: notes}
}

tick
meta {schedule: "@daily"}
fn (event) { "tick" }
"""


@pytest.fixture
def populated(api, environment, project, settings):
    """Several rows of every listed resource; events and results keep large parts as blobs."""
    settings.HOT_BLOB_THRESHOLD_BYTES = 100
    for index in range(ROWS):
        file_write(environment_id=environment.pk, path=f"docs/{index}.txt", source=BytesIO(b"x"))
        Project.objects.create(environment=environment, name=f"extra-{index}")
        context_create(project=project, key=f"KEY_{index}", value="secret")
        session_create(api_key=api.api_key, permissions={"stream:*": ["read"]})
        service_key_create(api_key=api.api_key, permissions={"run:*": ["read"]})
        domain_create(environment=environment, domain=f"d{index}.example.com")
    build = None
    # The webhooks and MCP tools listed: one function each, declared several times over.
    webhooks = [
        {"fn": "::app::main/on-signup", "service": "hooks", "path": f"/p{index}"}
        for index in range(ROWS)
    ]
    tools = [
        {"fn": "::app::main/tick", "service": "tools", "name": f"tick_{index}"}
        for index in range(ROWS)
    ]
    for _ in range(2):
        data, _hash = bundles.make_bundle(
            {bundles.DEFAULT_SOURCE_PATH: SOURCE},
            [bundles.Handler("user.signup", "::app::main/on-signup")],
            [bundles.Sched("@daily", "::app::main/tick")],
            webhooks=bundles.webhook_entries(webhooks, SOURCE),
            mcp_tools=bundles.mcp_tool_entries(tools, SOURCE),
        )
        build = deploy(api, data)
    event = None
    for index in range(ROWS):
        event = event_publish(
            environment=environment,
            event_type="user.signup",
            event_data={"email": f"u{index}@example.com", "notes": "n" * 200},
            source=EventSource.CLIENT,
        )
        for run_id in event_route(event_id=event.id):
            execution.execute_run(run_id=run_id)
    run = Run.objects.filter(event=event).get()
    assert Blob.objects.filter(source="run_result").exists()
    return {"build": build, "event": event, "run": run}


LISTS = [
    "/v1/projects",
    "/v1/builds",
    "/v1/projects/billing/builds",
    "/v1/projects/billing/context",
    "/v1/projects/billing/event-handlers",
    "/v1/projects/billing/schedules",
    "/v1/projects/billing/webhooks",
    "/v1/projects/billing/mcp-tools",
    "/v1/events",
    "/v1/events/{event}/runs",
    "/v1/runs",
    "/v1/runs?status=succeeded&type=event&time_range=P1D&project=billing",
    "/v1/runs/{run}/vars",
    "/v1/sessions",
    "/v1/service-keys",
    "/v1/domains",
    "/v1/runs/{run}/logs",
    "/v1/schedules",
    "/v1/schedules?project=billing&kind=declared&status=active",
    "/v1/files",
    "/v1/files?prefix=docs/",
]
# The page's blobs (large parts of event data, results, variables) take one more query.
WITH_BLOBS = {"/v1/events", "/v1/events/{event}/runs", "/v1/runs", "/v1/runs/{run}/vars"}


@pytest.mark.parametrize("url", LISTS)
def test_list_endpoints_have_a_fixed_query_budget(
    api, populated, url, django_assert_max_num_queries
):
    budget = LIST_BUDGET + (url in WITH_BLOBS)
    url = url.format(event=populated["event"].id, run=populated["run"].id)
    api.get(url)  # the key's last-use write happens once a minute; keep it out of the count
    with django_assert_max_num_queries(budget):
        response = api.get(url)
    assert response.status_code == 200, response.json()
    assert response.json()["data"], "the budget only means something with rows to list"


def test_publish_to_run_has_a_query_budget(
    api, environment, project, django_assert_max_num_queries
):
    deploy(api, hot_bundle(SOURCE, [("user.signup", "on-signup")]))
    with django_assert_max_num_queries(PUBLISH_TO_RUN_BUDGET[connection.vendor]):
        event = event_publish(
            environment=environment,
            event_type="user.signup",
            event_data={"email": "a@example.com"},
            source=EventSource.CLIENT,
        )
        (run_id,) = event_route(event_id=event.id, execute_inline=True)
    assert Run.objects.get(pk=run_id).status == "succeeded"
