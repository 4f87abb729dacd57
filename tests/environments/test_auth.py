"""Bearer API keys: every way a key can be wrong answers 401 with the error envelope."""

import re

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from environments.models import ApiKey
from environments.services import api_key_revoke, secret_digest

pytestmark = pytest.mark.django_db


def _get(client: APIClient, authorization: str | None):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    return client.get("/v1/env", **headers)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "bearer hot_0123456789abcdef0123456789abcdef_" + "0" * 64,
        "Bearer not-a-token",
        "Bearer hot_XYZ_123",
        "Bearer hot_0123456789abcdef0123456789abcdef_" + "0" * 63,
    ],
)
def test_missing_or_malformed_credentials(environment, authorization):
    response = _get(APIClient(), authorization)
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["request_id"] == response["X-Request-Id"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_wrong_secret(api):
    key_hex = api.api_key.id.hex
    response = _get(APIClient(), f"Bearer hot_{key_hex}_{'f' * 64}")
    assert response.status_code == 401


def test_unknown_key_id(api):
    secret = api.token.rsplit("_", 1)[1]
    response = _get(APIClient(), f"Bearer hot_{'0' * 32}_{secret}")
    assert response.status_code == 401


def test_valid_key(api, environment):
    body = api.get("/v1/env").json()["data"]
    assert body == {
        "env_id": str(environment.id),
        "org_id": str(environment.organization_id),
        "name": "testing",
        "active": True,
    }


def test_revoked_key(api):
    api_key_revoke(api_key=api.api_key)
    assert api.get("/v1/env").status_code == 401


def test_inactive_environment(api, environment):
    environment.active = False
    environment.save()
    assert api.get("/v1/env").status_code == 401


def test_secret_is_stored_as_keyed_digest(api):
    stored = ApiKey.objects.get(pk=api.api_key.pk)
    secret = api.token.rsplit("_", 1)[1]
    assert secret not in stored.digest
    assert stored.digest == secret_digest(secret)
    assert stored.last_used_at is None or stored.last_used_at


def test_last_used_is_recorded(api):
    api.get("/v1/env")
    assert ApiKey.objects.get(pk=api.api_key.pk).last_used_at is not None


def test_token_format(api):
    prefix, key_hex, secret = api.token.split("_")
    assert prefix == "hot" and len(key_hex) == 32 and len(secret) == 64
    assert key_hex == api.api_key.id.hex


def test_createapikey_prints_token_last(capsys):
    call_command("createapikey", "--env", "staging", "--name", "ci")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = client.get("/v1/env").json()["data"]
    assert body["name"] == "staging"
    assert ApiKey.objects.get(environment__name="staging").name == "ci"


def test_quota_fields(api, environment):
    environment.requests_per_hour = 1234
    environment.max_concurrent_runs = 7
    environment.save()
    body = api.get("/v1/env/quota").json()["data"]
    assert body == {
        "compute_used_percent": 0,
        "storage_used_percent": 0,
        "requests_per_hour": 1234,
        "requests_per_second": 100,
        "max_concurrent_runs": 7,
    }


def test_admin_issues_a_key_shown_once_and_revokes(admin_client, environment):
    response = admin_client.post(
        "/admin/environments/apikey/add/",
        {"environment": str(environment.id), "name": "ops"},
        follow=True,
    )
    page = response.content.decode()
    token = re.search(r"hot_[0-9a-f]{32}_[0-9a-f]{64}", page).group(0)
    api_key = ApiKey.objects.get(name="ops")
    assert token.split("_")[1] == api_key.id.hex
    assert token.split("_")[2] not in api_key.digest
    detail = admin_client.get(f"/admin/environments/apikey/{api_key.pk}/change/").content
    assert token.encode() not in detail  # shown once, never again
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/v1/env").status_code == 200
    admin_client.post(
        "/admin/environments/apikey/",
        {"action": "revoke_keys", "_selected_action": [str(api_key.pk)], "confirmed": "yes"},
    )
    assert client.get("/v1/env").status_code == 401
