"""A worker keeps an environment's event handlers per serving version: every change to what
serves the environment is seen by the next event routed in the same process."""

import pytest

from builds.models import Build, ServingVersion
from events.services import EventSource, event_publish
from projects.models import Project
from runs.models import Run
from runs.routing import event_route
from tests.runs import deploy, hot_bundle

pytestmark = pytest.mark.django_db(transaction=True)

SOURCE = """\
::app::main ns

greet
meta {on-event: "user.signup"}
fn (event) {
  "{version}"
}
"""


def bundle(version: str) -> bytes:
    return hot_bundle(SOURCE.replace("{version}", version), [("user.signup", "greet")])


def route(environment) -> list[Run]:
    event = event_publish(
        environment=environment,
        event_type="user.signup",
        event_data={"email": "a@example.com"},
        source=EventSource.CLIENT,
    )
    return list(Run.objects.filter(pk__in=event_route(event_id=event.pk, execute_inline=True)))


def version(environment) -> int:
    row = ServingVersion.objects.filter(environment=environment).first()
    return row.version if row else 0


def test_a_redeploy_is_routed_to_at_once(api, environment, project):
    first = deploy(api, bundle("one"))
    (run,) = route(environment)
    assert (run.build_id, run.result) == (first.pk, "one")
    assert route(environment)[0].build_id == first.pk  # the cached handlers, same answer

    second = deploy(api, bundle("two"))
    (run,) = route(environment)
    assert (run.build_id, run.result) == (second.pk, "two")


def test_deactivating_and_deleting_a_project_stop_its_handlers(api, environment, project):
    deploy(api, bundle("one"))
    assert len(route(environment)) == 1

    response = api.post(f"/v1/projects/{project.name}/deactivate")
    assert response.status_code == 200, response.json()
    assert route(environment) == []

    response = api.post(f"/v1/projects/{project.name}/activate")
    assert response.status_code == 200, response.json()
    Project.objects.filter(pk=project.pk).delete()
    assert route(environment) == []


def test_every_saved_or_deleted_build_or_project_raises_the_version(api, environment, project):
    build = deploy(api, bundle("one"))
    before = version(environment)
    assert before > 0
    build.active = False  # as an operator would in the admin: a plain save
    build.save()
    assert version(environment) == before + 1
    assert route(environment) == []  # an inactive build serves nothing

    project.name = "renamed"
    project.save()
    assert version(environment) == before + 2
    Build.objects.get(pk=build.pk).delete()
    assert version(environment) == before + 3
