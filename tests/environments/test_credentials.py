"""Sessions and service keys over the API: minting, limits, listing, revocation at once, and
the rules that keep a token within what its API key may do."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from environments.models import ServiceKey, Session
from environments.services import api_key_issue, api_key_revoke

pytestmark = pytest.mark.django_db

STREAM_READ = {"stream:*": ["read"]}


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _mint(api, body, path="/v1/sessions"):
    response = api.post(path, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


# --- sessions --------------------------------------------------------------------------------


def test_session_create_defaults(api):
    before = timezone.now()
    session = _mint(api, {"permissions": STREAM_READ, "metadata": {"user": "u1"}})
    assert set(session) == {
        "session_id",
        "token",
        "permissions",
        "metadata",
        "expires_at",
        "created_at",
        "last_used_at",
    }
    assert session["token"].startswith(f"s_{session['session_id'].replace('-', '')}_")
    assert session["permissions"] == STREAM_READ
    assert session["metadata"] == {"user": "u1"}
    row = Session.objects.get(pk=session["session_id"])
    assert timedelta(seconds=3599) <= row.expires_at - before <= timedelta(seconds=3601)
    assert session["token"].split("_")[2] not in row.digest  # only an HMAC is stored


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "permissions"),
        ({"permissions": ["stream:*"]}, "permissions"),
        ({"permissions": {"stream": ["read"]}}, "permissions"),
        ({"permissions": {"stream:*": []}}, "permissions"),
        ({"permissions": {"stream:*": ["Read"]}}, "permissions"),
        ({"permissions": {"stream:*": ["create"]}}, "permissions"),
        ({"permissions": {"*:foo": ["read"]}}, "permissions"),
        ({"permissions": {"project:billing": ["read"]}}, "permissions"),
        ({"permissions": STREAM_READ, "expires_in": 0}, "expires_in"),
        ({"permissions": STREAM_READ, "expires_in": 86401}, "expires_in"),
        ({"permissions": STREAM_READ, "expires_in": "60"}, "expires_in"),
        ({"permissions": STREAM_READ, "metadata": "x" * 20000}, "metadata"),
        ({"permissions": STREAM_READ, "extra": 1}, "extra"),
    ],
)
def test_session_create_rejects_bad_input(api, body, field):
    response = api.post("/v1/sessions", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["details"]
    assert not Session.objects.exists()


def test_session_cannot_exceed_its_api_key(environment):
    issued = api_key_issue(
        environment=environment, permissions={"event:*": ["read"], "session:*": ["create"]}
    )
    api = client_with(issued.token)
    for permissions in ({"event:*": ["create"]}, {"event:*": ["*"]}, {"*:*": ["read"]}):
        response = api.post("/v1/sessions", {"permissions": permissions}, format="json")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_escalation"
    assert _mint(api, {"permissions": {"event:order:*": ["read"]}})


def test_session_limit_per_api_key(api, settings):
    settings.HOT_SESSIONS_PER_API_KEY = 2
    first = _mint(api, {"permissions": STREAM_READ})
    _mint(api, {"permissions": STREAM_READ})
    response = api.post("/v1/sessions", {"permissions": STREAM_READ}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "session_limit_exceeded"
    assert api.delete(f"/v1/sessions/{first['session_id']}").status_code == 204
    assert _mint(api, {"permissions": STREAM_READ})


def test_session_list_is_active_sessions_of_this_key(api, environment):
    other = client_with(api_key_issue(environment=environment).token)
    mine = [_mint(api, {"permissions": STREAM_READ}) for _ in range(3)]
    _mint(other, {"permissions": STREAM_READ})
    Session.objects.filter(pk=mine[0]["session_id"]).update(expires_at=timezone.now())
    listed = api.get("/v1/sessions?limit=1").json()
    assert listed["pagination"] == {"total": 2, "limit": 1, "offset": 0, "has_more": True}
    assert listed["data"][0]["session_id"] == mine[2]["session_id"]
    assert "token" not in listed["data"][0]
    # Another key's session is not found, not forbidden.
    theirs = other.get("/v1/sessions").json()["data"][0]["session_id"]
    assert api.delete(f"/v1/sessions/{theirs}").status_code == 404


def test_revoked_expired_and_orphaned_sessions_stop_at_once(api, environment):
    session = _mint(api, {"permissions": {"env:*": ["read"]}})
    browser = client_with(session["token"])
    assert browser.get("/v1/env").status_code == 200
    assert api.delete(f"/v1/sessions/{session['session_id']}").status_code == 204
    response = browser.get("/v1/env")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"

    expiring = _mint(api, {"permissions": {"env:*": ["read"]}, "expires_in": 60})
    Session.objects.filter(pk=expiring["session_id"]).update(expires_at=timezone.now())
    assert client_with(expiring["token"]).get("/v1/env").status_code == 401

    orphan = _mint(api, {"permissions": {"env:*": ["read"]}})
    api_key_revoke(api_key=api.api_key)
    assert client_with(orphan["token"]).get("/v1/env").status_code == 401


def test_revoke_all_sessions(api):
    tokens = [_mint(api, {"permissions": {"env:*": ["read"]}})["token"] for _ in range(3)]
    response = api.delete("/v1/sessions")
    assert response.status_code == 200
    assert response.json()["data"] == {"revoked_count": 3}
    assert all(client_with(token).get("/v1/env").status_code == 401 for token in tokens)
    assert api.delete("/v1/sessions").json()["data"] == {"revoked_count": 0}


def test_narrowing_the_api_key_narrows_its_tokens_at_once(api):
    session = _mint(api, {"permissions": {"env:*": ["read"], "run:*": ["read"]}})
    browser = client_with(session["token"])
    assert browser.get("/v1/runs").status_code == 200
    api.api_key.permissions = {"env:*": ["read"]}
    api.api_key.save()
    assert browser.get("/v1/env").status_code == 200
    assert browser.get("/v1/runs").status_code == 403


def test_tokens_never_manage_credentials(api):
    session = client_with(_mint(api, {"permissions": {"*:*": ["*"]}})["token"])
    service = client_with(
        _mint(api, {"permissions": {"event:*": ["*"]}}, "/v1/service-keys")["token"]
    )
    for client in (session, service):
        for method, path in [
            ("post", "/v1/sessions"),
            ("get", "/v1/sessions"),
            ("delete", "/v1/sessions"),
            ("post", "/v1/service-keys"),
            ("get", "/v1/service-keys"),
            ("delete", "/v1/service-keys"),
        ]:
            response = getattr(client, method)(path, {"permissions": STREAM_READ}, format="json")
            assert response.status_code == 403, (method, path)
            assert response.json()["error"]["code"] == "forbidden"


# --- service keys ----------------------------------------------------------------------------


def test_service_key_lifecycle(api):
    created = _mint(
        api,
        {
            "name": "Acme",
            "description": "Acme's integration",
            "permissions": {"event:order:*": ["create"], "run:*": ["read"]},
            "metadata": {"customer_id": "acme-1"},
            "expires_in": 3600,
        },
        "/v1/service-keys",
    )
    key_id = created["service_key_id"]
    assert created["token"].startswith(key_id.replace("-", "") + "_")
    assert created["expires_at"] and created["revoked_at"] is None
    fetched = api.get(f"/v1/service-keys/{key_id}").json()["data"]
    assert "token" not in fetched and fetched["name"] == "Acme"

    updated = api.patch(f"/v1/service-keys/{key_id}", {"metadata": {"tier": "pro"}}, format="json")
    assert updated.status_code == 200
    assert updated.json()["data"]["metadata"] == {"tier": "pro"}

    token = client_with(created["token"])
    published = token.post(
        "/v1/events", {"event_type": "order:placed", "event_data": {}}, format="json"
    )
    assert published.status_code == 201
    refused = token.post("/v1/events", {"event_type": "user:new", "event_data": {}}, format="json")
    assert refused.status_code == 403

    assert api.delete(f"/v1/service-keys/{key_id}").status_code == 204
    assert token.get("/v1/runs").status_code == 401
    conflict = api.patch(f"/v1/service-keys/{key_id}", {"metadata": {}}, format="json")
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "revoked"
    assert api.get(f"/v1/service-keys/{key_id}").json()["data"]["revoked_at"]


@pytest.mark.parametrize(
    "permissions",
    [{"*:*": ["*"]}, {"project:*": ["read"]}, {"context:*": ["read"]}, {"key:*": ["read"]}],
)
def test_service_keys_only_hold_customer_facing_types(api, permissions):
    response = api.post("/v1/service-keys", {"permissions": permissions}, format="json")
    assert response.status_code == 400
    assert "permissions" in response.json()["error"]["details"]


def test_service_key_expiry(api):
    bad = api.post("/v1/service-keys", {"permissions": STREAM_READ, "expires_in": 0}, format="json")
    assert bad.status_code == 400
    never = _mint(api, {"permissions": {"run:*": ["read"]}}, "/v1/service-keys")
    assert never["expires_at"] is None
    ServiceKey.objects.filter(pk=never["service_key_id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client_with(never["token"]).get("/v1/runs").status_code == 401


def test_service_key_list_total_is_the_count(api):
    for index in range(5):
        _mint(api, {"name": f"k{index}", "permissions": STREAM_READ}, "/v1/service-keys")
    api.delete("/v1/service-keys")  # revoked keys stay listed
    page = api.get("/v1/service-keys?limit=2").json()
    assert page["pagination"] == {"total": 5, "limit": 2, "offset": 0, "has_more": True}
    assert [key["name"] for key in page["data"]] == ["k4", "k3"]
    assert all(key["revoked_at"] for key in page["data"])
    assert api.delete("/v1/service-keys").json()["data"] == {"revoked_count": 0}


def test_malformed_tokens_are_401(api):
    for token in ["s_nope", "s_" + "0" * 32 + "_" + "0" * 32, "0" * 32 + "_" + "0" * 32, "x_y"]:
        response = client_with(token).get("/v1/env")
        assert response.status_code == 401, token


def test_browsers_on_allowed_origins_may_call_with_a_session(api, client, settings):
    """A page on another origin calls the API with its session token (CORS, opt-in)."""
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    preflight = client.options(
        "/v1/streams/subscribe-with-event",
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    session = _mint(api, {"permissions": {"env:*": ["read"]}})
    response = client_with(session["token"]).get("/v1/env", HTTP_ORIGIN="https://app.example.com")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "x-request-id" in response["Access-Control-Expose-Headers"]
    other = client_with(session["token"]).get("/v1/env", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other
    assert "Access-Control-Allow-Origin" not in client.get(
        "/status", HTTP_ORIGIN="https://app.example.com"
    )
