"""Requests without a valid key are throttled per client address (reliability review A5).

Before, only authenticated requests were counted: 900 bad-token requests went through, each
costing a key lookup.
"""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LIMIT = 5


@pytest.fixture(autouse=True)
def _small_budget(settings):
    settings.HOT_UNAUTHENTICATED_REQUESTS_PER_HOUR = LIMIT


def _bad_client(address: str = "203.0.113.7") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION="Bearer hot_" + "0" * 32 + "_" + "1" * 64)
    return client


def test_an_address_over_its_budget_is_refused_before_any_work(api, django_assert_num_queries):
    client = _bad_client()
    for _ in range(LIMIT + 1):  # the one past the budget is still answered
        assert client.get("/v1/projects").status_code == 401
    with django_assert_num_queries(0):  # no key lookup any more
        response = client.get("/v1/projects")
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert 0 < error["retry_after"] <= 3600
    assert response["Retry-After"] == str(error["retry_after"])

    # The whole address waits, also with a valid key (a guess that succeeds gains nothing).
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.token}")
    assert client.get("/v1/projects").status_code == 429
    # Other addresses are not affected.
    assert _bad_client("198.51.100.1").get("/v1/projects").status_code == 401
    assert api.get("/v1/projects").status_code == 200


def test_unauthenticated_requests_count_whatever_the_answer(client):
    for path in ["/v1/projects", "/v1/no-such-route", "/v1/projects?limit=x"] * 2:
        client.get(path)
    assert client.get("/v1/env").status_code == 429


def test_authenticated_requests_do_not_count(api):
    for _ in range(LIMIT * 3):
        assert api.get("/v1/projects").status_code == 200
    assert _bad_client("127.0.0.1").get("/v1/projects").status_code == 401


def test_status_and_the_admin_are_not_counted(client):
    for _ in range(LIMIT * 2):
        assert client.get("/status").status_code == 200
    assert client.get("/v1/projects").status_code == 401


def test_zero_turns_the_throttle_off(client, settings):
    settings.HOT_UNAUTHENTICATED_REQUESTS_PER_HOUR = 0
    for _ in range(LIMIT * 2):
        assert client.get("/v1/projects").status_code == 401
