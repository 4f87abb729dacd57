"""The official hot-dev SDK, unmodified, against a live server: projects, context, env."""

import pytest
from hot import HotClient
from hot.errors import HotApiError

from environments.services import api_key_issue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def sdk(hot_server, environment):
    token = api_key_issue(environment=environment, name="sdk").token
    with HotClient(token=token, base_url=hot_server.url) as client:
        yield client


def test_projects_lifecycle(sdk):
    created = sdk.projects.create({"name": "sdk-project"})
    assert created["name"] == "sdk-project"
    assert sdk.projects.get("sdk-project")["project_id"] == created["project_id"]
    assert sdk.projects.get(created["project_id"])["name"] == "sdk-project"
    listed = sdk.projects.list(limit=5)
    assert listed["pagination"]["total"] == 1
    assert sdk.projects.update("sdk-project", {"name": "sdk-renamed"})["name"] == "sdk-renamed"
    assert sdk.projects.deactivate("sdk-renamed")["project"]["active"] is False
    assert sdk.projects.activate("sdk-renamed")["project"]["active"] is True
    sdk.projects.delete("sdk-renamed")
    with pytest.raises(HotApiError) as excinfo:
        sdk.projects.get("sdk-renamed")
    assert excinfo.value.status_code == 404
    assert excinfo.value.code == "not_found"
    assert excinfo.value.request_id


def test_context_variables(sdk):
    sdk.projects.create({"name": "ctx"})
    created = sdk.context.create("ctx", {"key": "API_TOKEN", "value": "s3cr3t", "description": "d"})
    assert created["key"] == "API_TOKEN" and "value" not in created
    updated = sdk.context.update("ctx", "API_TOKEN", {"value": "n3w", "description": "e"})
    assert updated["description"] == "e"
    listed = sdk.context.list("ctx")
    assert [item["key"] for item in listed["data"]] == ["API_TOKEN"]
    sdk.context.delete("ctx", "API_TOKEN")
    assert sdk.context.list("ctx")["data"] == []
    with pytest.raises(HotApiError) as excinfo:
        sdk.context.create("ctx", {"key": "bad key", "value": "x"})
    assert excinfo.value.status_code == 400


def test_env(sdk, environment):
    env = sdk.env.get()
    assert env["env_id"] == str(environment.id)
    assert env["name"] == environment.name


def test_bad_token_is_unauthorized(hot_server):
    with HotClient(token="hot_nope", base_url=hot_server.url) as client:
        with pytest.raises(HotApiError) as excinfo:
            client.projects.list()
    assert excinfo.value.status_code == 401
    assert excinfo.value.code == "unauthorized"
