"""Project-wide checks: migrations match the models, the OpenAPI schema validates."""

import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_openapi_schema_validates(tmp_path):
    target = tmp_path / "schema.json"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(target),
    )
    schema = json.loads(target.read_text())
    project = schema["paths"]["/v1/projects/{project_ref}"]["get"]["responses"]
    data_schema = project["200"]["content"]["application/json"]["schema"]
    assert set(data_schema["properties"]) == {"data", "meta"}
    assert project["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    listing = schema["paths"]["/v1/projects"]["get"]["responses"]["200"]
    assert set(listing["content"]["application/json"]["schema"]["properties"]) == {
        "data",
        "pagination",
        "meta",
    }


def test_openapi_endpoint_serves_json(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    assert client.get("/v1/docs").status_code == 200
