"""The API core through HTTP: envelopes, request ids, errors, pagination."""

import uuid

import pytest
from django.conf import settings as django_settings

from environments.models import ApiKey
from projects.models import Project

pytestmark = pytest.mark.django_db


def test_status_is_public_and_unwrapped(client):
    response = client.get("/status")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["service"] == "hot.dev api server"
    assert set(body) == {"status", "service", "version", "git_sha", "start_time"}
    assert body["start_time"].endswith("Z") and body["git_sha"]


def test_single_item_envelope(api, project):
    response = api.get(f"/v1/projects/{project.name}")
    body = response.json()
    assert list(body) == ["data", "meta"]
    assert set(body["meta"]) == {"request_id", "timestamp"}
    assert body["meta"]["timestamp"].endswith("Z")
    assert response["X-Request-Id"] == body["meta"]["request_id"]


def test_api_v1_prefix_serves_the_same_routes(api, project):
    assert api.get("/api/v1/projects/billing").json()["data"]["name"] == "billing"


def test_inbound_request_id_is_echoed(api, project):
    response = api.get("/v1/projects/billing", HTTP_X_REQUEST_ID="trace-1234abcd")
    assert response["X-Request-Id"] == "trace-1234abcd"
    assert response.json()["meta"]["request_id"] == "trace-1234abcd"
    error = api.get("/v1/projects/nope", HTTP_X_REQUEST_ID="trace-1234abcd").json()["error"]
    assert error["request_id"] == "trace-1234abcd"


def test_insane_request_id_is_replaced(api, project):
    response = api.get("/v1/projects/billing", HTTP_X_REQUEST_ID="bad id\nInjected: yes")
    assert uuid.UUID(response["X-Request-Id"])


def test_request_id_reaches_log_lines(api, caplog, monkeypatch):
    from projects import selectors

    def boom(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "project_list", boom)
    response = api.get("/v1/projects", HTTP_X_REQUEST_ID="trace-logs-0001")
    assert response.status_code == 500
    assert any(getattr(r, "request_id", None) == "trace-logs-0001" for r in caplog.records)


def test_unhandled_error_is_generic_500_envelope(api, monkeypatch):
    from projects import selectors

    def boom(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "project_list", boom)
    response = api.get("/v1/projects")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_server_error"
    assert "secret internals" not in response.content.decode()
    assert error["request_id"] == response["X-Request-Id"]


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/v1/projects/x/y/z/w", "/api/v1/nope"])
def test_unknown_routes_under_v1_are_404_envelopes(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_unknown_route_is_404_even_without_auth(client):
    response = client.post("/v1/definitely-not-a-route", {}, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_method_not_allowed(api):
    response = api.put("/v1/projects", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_malformed_json_is_400(api):
    response = api.post("/v1/projects", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_wrong_content_type_is_415(api):
    response = api.post("/v1/projects", "name=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_oversized_body_is_413(api, settings):
    settings.HOT_MAX_JSON_BODY_BYTES = 1000
    body = '{"name": "' + "a" * 2000 + '"}'
    response = api.post("/v1/projects", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not Project.objects.exists()


def test_non_object_body_is_400(api):
    response = api.post("/v1/projects", "[1, 2]", content_type="application/json")
    assert response.status_code == 400


@pytest.fixture
def many_projects(environment):
    return [
        Project.objects.create(environment=environment, name=f"p{index:02d}") for index in range(25)
    ]


def test_pagination_defaults(api, many_projects):
    body = api.get("/v1/projects").json()
    assert list(body) == ["data", "pagination", "meta"]
    assert len(body["data"]) == 20
    assert body["pagination"] == {"total": 25, "limit": 20, "offset": 0, "has_more": True}


@pytest.mark.parametrize(
    ("query", "count", "has_more"),
    [
        ("limit=0", 0, True),
        ("limit=1", 1, True),
        ("limit=500", 25, False),
        ("limit=5&offset=20", 5, False),
        ("offset=100", 0, False),
    ],
)
def test_pagination_edges(api, many_projects, query, count, has_more):
    body = api.get(f"/v1/projects?{query}").json()
    assert len(body["data"]) == count
    assert body["pagination"]["total"] == 25
    assert body["pagination"]["has_more"] is has_more


def test_pagination_clamps_limit_above_the_maximum(api, many_projects):
    """As the reference server and the SDK expect (D4): the block says what was applied."""
    body = api.get("/v1/projects?limit=100000").json()
    assert len(body["data"]) == 25
    assert body["pagination"] == {"total": 25, "limit": 500, "offset": 0, "has_more": False}


@pytest.mark.parametrize("query", ["limit=-1", "limit=abc", "offset=-5", "offset=1.5"])
def test_pagination_rejects_bad_parameters(api, query):
    response = api.get(f"/v1/projects?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert query.split("=")[0] in error["details"]


def test_pagination_is_stable_and_complete(api, many_projects):
    seen = []
    for offset in range(0, 25, 7):
        seen += [p["name"] for p in api.get(f"/v1/projects?limit=7&offset={offset}").json()["data"]]
    assert sorted(seen) == sorted(p.name for p in many_projects)
    assert len(seen) == len(set(seen))


def test_rate_limit_is_429_with_retry_after(api, environment):
    environment.requests_per_hour = 2
    environment.save()
    assert api.get("/v1/env").status_code == 200
    assert api.get("/v1/env").status_code == 200
    response = api.get("/v1/env")
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert int(response["Retry-After"]) == error["retry_after"] >= 1


def test_authentication_costs_one_query(api, project, django_assert_num_queries, settings):
    settings.HOT_CREDENTIAL_CACHE_SECONDS = 0  # the database path
    api.get("/v1/env")  # the first use refreshes last_used_at
    with django_assert_num_queries(1):
        assert api.get("/v1/env").status_code == 200


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="the credential cache needs Redis")
def test_a_verified_credential_costs_no_query_until_it_changes(
    api, project, django_assert_num_queries
):
    api.get("/v1/env")  # verified once, then remembered
    with django_assert_num_queries(0):
        assert api.get("/v1/env").status_code == 200
    api_key = ApiKey.objects.get(environment=project.environment)
    api_key.name = "renamed"
    api_key.save()  # any change to the key: read again
    with django_assert_num_queries(1):
        assert api.get("/v1/env").status_code == 200
