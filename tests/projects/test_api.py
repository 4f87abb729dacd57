import uuid

import pytest

from projects.models import Project
from secrets_app.models import ContextVariable

pytestmark = pytest.mark.django_db

PROJECT_FIELDS = {"project_id", "env_id", "name", "active", "created_at", "updated_at"}


def test_create_list_get_rename_delete(api, environment):
    assert api.get("/v1/projects").json()["data"] == []
    created = api.post("/v1/projects", {"name": "my-project"}, format="json")
    assert created.status_code == 201
    project = created.json()["data"]
    assert set(project) == PROJECT_FIELDS
    assert project["env_id"] == str(environment.id) and project["active"] is True

    by_id = api.get(f"/v1/projects/{project['project_id']}").json()["data"]
    by_name = api.get("/v1/projects/my-project").json()["data"]
    assert by_id == by_name

    renamed = api.patch("/v1/projects/my-project", {"name": "renamed"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["data"]["name"] == "renamed"
    assert api.get("/v1/projects/my-project").status_code == 404

    assert api.delete("/v1/projects/renamed").status_code == 204
    assert api.get("/v1/projects").json()["pagination"]["total"] == 0


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a/b",
        "back\\slash",
        "tab\there",
        " leading",
        "trailing ",
        ".",
        "..",
        "a" * 256,
        "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D",
        "a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5d",
    ],
)
def test_invalid_names_are_400(api, name):
    response = api.post("/v1/projects", {"name": name}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["error"]["details"]


# Directory names, as the `hot` CLI uses them (D6).
@pytest.mark.parametrize(
    "name",
    [
        "a",
        "a" * 255,
        "my-project-2",
        "x1",
        "MyApp",
        "my_app",
        "1abc",
        "-abc",
        "My App",
        "ünï",
        "v1.2",
    ],
)
def test_valid_names(api, name):
    created = api.post("/v1/projects", {"name": name}, format="json")
    assert created.status_code == 201
    project_id = created.json()["data"]["project_id"]
    from urllib.parse import quote

    assert (
        api.get(f"/v1/projects/{quote(name, safe='')}").json()["data"]["project_id"] == project_id
    )


@pytest.mark.parametrize(
    "body",
    [{}, {"name": 5}, {"name": None}, {"name": ["a"]}, {"name": "ok", "extra": 1}],
)
def test_bad_bodies_are_400(api, body):
    response = api.post("/v1/projects", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert not Project.objects.exists()


def test_creating_an_existing_project_returns_it(api, project):
    response = api.post("/v1/projects", {"name": "billing"}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["project_id"] == str(project.id)
    assert Project.objects.count() == 1


def test_creating_an_inactive_project_reactivates_it(api, project):
    project.active = False
    project.save()
    response = api.post("/v1/projects", {"name": "billing"}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["active"] is True
    project.refresh_from_db()
    assert project.active is True


def test_names_are_case_sensitive(api, project):
    assert api.post("/v1/projects", {"name": "Billing"}, format="json").status_code == 201


def test_rename_clash_conflicts(api, project, environment):
    Project.objects.create(environment=environment, name="other")
    response = api.patch("/v1/projects/other", {"name": "billing"}, format="json")
    assert response.status_code == 409
    assert Project.objects.get(name="other")


def test_same_name_in_two_environments(api, other_api, project):
    assert other_api.post("/v1/projects", {"name": "billing"}, format="json").status_code == 201


def test_unknown_project_is_404(api):
    for ref in ["ghost", str(uuid.uuid4()), "not-a-uuid-%2F"]:
        response = api.get(f"/v1/projects/{ref}")
        assert response.status_code == 404, ref
        assert response.json()["error"]["message"] == "Project not found"


def test_other_environment_sees_404_everywhere(other_api, project):
    refs = [project.name, str(project.id)]
    for ref in refs:
        assert other_api.get(f"/v1/projects/{ref}").status_code == 404
        assert (
            other_api.patch(f"/v1/projects/{ref}", {"name": "x"}, format="json").status_code == 404
        )
        assert other_api.post(f"/v1/projects/{ref}/activate").status_code == 404
        assert other_api.post(f"/v1/projects/{ref}/deactivate").status_code == 404
        assert other_api.get(f"/v1/projects/{ref}/context").status_code == 404
        assert other_api.delete(f"/v1/projects/{ref}").status_code == 404
    assert other_api.get("/v1/projects").json()["data"] == []
    assert Project.objects.filter(pk=project.pk).exists()


def test_activate_and_deactivate(api, project):
    response = api.post("/v1/projects/billing/deactivate")
    assert response.status_code == 200
    assert response.json()["data"]["project"]["active"] is False
    listed = api.get("/v1/projects").json()["data"]
    assert listed[0]["active"] is False
    response = api.post(f"/v1/projects/{project.id}/activate")
    assert response.json()["data"]["project"]["active"] is True
    assert "redeployed_build_id" not in response.json()["data"]  # no builds yet


def test_list_orders_active_first_then_newest(api, environment):
    for name in ["first", "second", "third"]:
        api.post("/v1/projects", {"name": name}, format="json")
    api.post("/v1/projects/third/deactivate")
    names = [p["name"] for p in api.get("/v1/projects").json()["data"]]
    assert names == ["second", "first", "third"]


def test_delete_removes_context_variables(api, project):
    api.post("/v1/projects/billing/context", {"key": "K", "value": "v"}, format="json")
    assert api.delete("/v1/projects/billing").status_code == 204
    assert not ContextVariable.objects.exists()


def test_trailing_slash_is_accepted(api, project):
    assert api.get("/v1/projects/").status_code == 200
    assert api.get("/v1/projects/billing/").status_code == 200
