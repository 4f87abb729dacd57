"""Context variables through HTTP: metadata only, values never returned."""

import pytest
from django.db import connection

from secrets_app.models import ContextVariable

pytestmark = pytest.mark.django_db

SECRET = "postgres://user:hunter2-very-secret@db/prod"


def _create(api, key="DATABASE_URL", value=SECRET, **extra):
    return api.post(
        "/v1/projects/billing/context", {"key": key, "value": value, **extra}, format="json"
    )


def test_lifecycle_never_returns_the_value(api, project):
    created = _create(api, description="Production database")
    assert created.status_code == 201
    assert created.json()["data"].keys() == {"key", "description", "created_at", "updated_at"}
    listed = api.get("/v1/projects/billing/context")
    updated = api.put(
        "/v1/projects/billing/context/DATABASE_URL",
        {"value": SECRET + "-2", "description": "rotated"},
        format="json",
    )
    assert updated.status_code == 200
    assert updated.json()["data"]["description"] == "rotated"
    for response in (created, listed, updated):
        assert "hunter2" not in response.content.decode()
        assert "value" not in response.content.decode()
    assert listed.json()["data"][0]["key"] == "DATABASE_URL"
    assert api.delete("/v1/projects/billing/context/DATABASE_URL").status_code == 204
    assert api.get("/v1/projects/billing/context").json()["data"] == []


def test_value_is_not_stored_in_plaintext(api, project):
    _create(api)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM secrets_app_contextvariable")
        row = cursor.fetchone()
    flattened = b"".join(
        bytes(c) if isinstance(c, bytes | memoryview) else str(c).encode() for c in row
    )
    assert b"hunter2" not in flattened


def test_duplicate_key_conflicts(api, project):
    _create(api)
    response = _create(api)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "hunter2" not in response.content.decode()


def test_put_missing_key_is_404(api, project):
    response = api.put("/v1/projects/billing/context/NOPE", {"value": "x"}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Context variable not found"


def test_delete_missing_key_is_404(api, project):
    assert api.delete("/v1/projects/billing/context/NOPE").status_code == 404


def test_omitted_description_is_kept_and_null_clears(api, project):
    _create(api, description="keep me")
    kept = api.put("/v1/projects/billing/context/DATABASE_URL", {"value": "new"}, format="json")
    assert kept.json()["data"]["description"] == "keep me"
    cleared = api.put(
        "/v1/projects/billing/context/DATABASE_URL",
        {"value": "new", "description": None},
        format="json",
    )
    assert cleared.json()["data"]["description"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"value": "x"},
        {"key": "K"},
        {"key": "", "value": "x"},
        {"key": "has space", "value": "x"},
        {"key": "K/slash", "value": "x"},
        {"key": "k" * 256, "value": "x"},
        {"key": "K", "value": 5},
        {"key": "K", "value": None},
        {"key": "K", "value": "x", "unknown": True},
        {"key": "K", "value": "x" * (64 * 1024 + 1)},
    ],
)
def test_invalid_bodies_are_400_and_store_nothing(api, project, body):
    response = api.post("/v1/projects/billing/context", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "bad_request"
    assert not ContextVariable.objects.exists()


def test_error_messages_do_not_echo_values(api, project):
    response = api.post(
        "/v1/projects/billing/context", {"key": "bad key", "value": SECRET}, format="json"
    )
    assert "hunter2" not in response.content.decode()


def test_valid_key_characters(api, project):
    assert _create(api, key="slack.api-key_2").status_code == 201


def test_cross_environment_is_404(other_api, api, project):
    _create(api)
    assert other_api.get("/v1/projects/billing/context").status_code == 404
    assert (
        other_api.put(
            "/v1/projects/billing/context/DATABASE_URL", {"value": "x"}, format="json"
        ).status_code
        == 404
    )
    assert other_api.delete("/v1/projects/billing/context/DATABASE_URL").status_code == 404
    assert ContextVariable.objects.count() == 1


def test_admin_page_never_shows_the_value(admin_client, api, project):
    _create(api)
    variable = ContextVariable.objects.get()
    for url in [
        "/admin/secrets_app/contextvariable/",
        f"/admin/secrets_app/contextvariable/{variable.pk}/change/",
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200
        assert "hunter2" not in response.content.decode()
