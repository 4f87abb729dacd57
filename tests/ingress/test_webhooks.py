"""Webhook routing and refusals through the test client (no worker: nothing here runs), the
listing API, and what a bundle's unserved sections become."""

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from builds.models import Webhook
from builds.services import build_upload, deploy_execute, deploy_request
from domains.models import Domain
from environments.services import api_key_issue
from runs.models import Run

from .conftest import deploy_ingress
from .source import ingress_bundle

pytestmark = pytest.mark.django_db


@pytest.fixture
def web():
    return APIClient()


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["request_id"]
    return body["error"]


def test_unknown_service_path_token_or_environment_is_the_same_404(web, hooks):
    good = hooks[("shop", "orders")]
    token = good.rsplit("/", 1)[1]
    for url in (
        good[: -len(token)] + "0" * len(token),  # wrong token
        good.replace("/shop/", "/nope/"),  # unknown service
        good.replace("/orders/", "/other/"),  # unknown path
        good.replace("/shop/orders/", "/shop/"),  # path missing
        "/webhook/default/testing",
        "/webhook/default/testing/shop",
    ):
        response = web.post(url, {"a": 1}, format="json")
        assert response.status_code == 404, url
        assert error_of(response) == {**error_of(response), "code": "not_found"}
        assert error_of(response)["message"] == "Webhook endpoint not found"
    elsewhere = web.post(good.replace("/testing/", "/staging/"), {}, format="json")
    assert elsewhere.status_code == 404
    assert "staging" in error_of(elsewhere)["message"]
    assert not Run.objects.exists()


def test_wrong_method_is_405_naming_the_allowed_one(web, hooks):
    response = web.get(hooks[("shop", "orders")])
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert error_of(response)["code"] == "method_not_allowed"
    assert not Run.objects.exists()


def test_required_auth_refuses_other_environments_keys(web, hooks, other_environment):
    key = api_key_issue(environment=other_environment, name="elsewhere").token
    response = web.post(
        hooks[("internal", "sync")], {}, format="json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    malformed = web.post(
        hooks[("internal", "sync")], {}, format="json", HTTP_AUTHORIZATION="Basic x"
    )
    assert malformed.status_code == 401
    assert malformed["WWW-Authenticate"] == 'Bearer realm="hot"'
    assert not Run.objects.exists()


def test_rate_limit_answers_429_before_any_run(web, hooks, environment):
    environment.requests_per_hour = 1
    environment.requests_per_second = 0
    environment.save()
    url = hooks[("shop", "orders")]
    # The first call is counted but would need a worker: use a refused method to count it.
    web.get(url)
    response = web.get(url)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert error_of(response)["code"] == "rate_limit_exceeded"


def test_the_token_never_reaches_the_access_log(web, hooks, caplog):
    url = hooks[("shop", "orders")]
    token = url.rsplit("/", 1)[1]
    with caplog.at_level("INFO", logger="hot.access"):
        web.get(url)
    lines = [record.getMessage() for record in caplog.records if record.name == "hot.access"]
    assert lines and all(token not in line for line in lines)
    assert any("/webhook/default/testing/shop/orders/<token>" in line for line in lines)


def test_listing_gives_each_webhook_url_and_keeps_tokens_across_deploys(api, project, deployed):
    response = api.get("/v1/projects/billing/webhooks")
    assert response.status_code == 200
    listed = {(w["service"], w["path"], w["method"]): w for w in response.json()["data"]}
    assert set(listed) == {
        ("shop", "orders", "POST"),
        ("shop", "", "GET"),
        ("internal", "sync", "POST"),
        ("shop", "broken", "POST"),
        ("shop", "slow", "POST"),
        ("shop", "respond", "POST"),
    }
    orders = listed[("shop", "orders", "POST")]
    token = Webhook.objects.get(pk=orders["webhook_id"]).token
    assert len(token) == 32
    assert orders["url"] == f"http://testserver/webhook/default/testing/shop/orders/{token}"
    assert orders["auth"] == "none" and listed[("internal", "sync", "POST")]["auth"] == "required"

    redeployed = deploy_ingress(project, ctx_requirements=["X"])
    assert redeployed.pk != deployed.pk
    again = api.get("/v1/projects/billing/webhooks").json()["data"]
    assert {w["url"] for w in again} == {w["url"] for w in listed.values()}

    tools = api.get("/v1/projects/billing/mcp-tools").json()["data"]
    assert {t["name"] for t in tools} == {
        "app_hooks_add_numbers",
        "app_hooks_greet",
        "app_hooks_explode",
    }
    assert {t["url"] for t in tools} == {"http://testserver/mcp/default/testing/calc"}


def test_listing_without_a_deployed_build_is_empty(api, project):
    for url in ("/v1/projects/billing/webhooks", "/v1/projects/billing/mcp-tools"):
        response = api.get(url)
        assert response.status_code == 200
        assert response.json()["data"] == []


def test_unserved_sections_are_upload_and_deploy_warnings(project):
    data, bundle_hash = ingress_bundle(
        extra_sections={
            "agents": [{"name": "Helper"}],
            "workflows": [{"name": "onboarding"}],
            "box_requirements": {"min_size": "large"},
            "future_thing": {"x": 1},
        }
    )
    result = build_upload(
        project=project, upload=SimpleUploadedFile("b.zip", data), client_hash=bundle_hash
    )
    expected = ["(agents)", "(workflows)", "(box_requirements)", "(future_thing)"]
    for fragment in expected:
        assert any(fragment in warning for warning in result.warnings), result.warnings
    build = deploy_request(build=result.build).build
    assert deploy_execute(build_id=build.pk, sequence=build.deployment_sequence) == "deployed"
    build.refresh_from_db()
    for fragment in expected:
        assert any(fragment in warning for warning in build.runtime_warnings), fragment


def test_oversized_body_is_413_before_anything_runs(hot_server):
    url = f"{hot_server.url}/webhook/default/testing/shop/orders/{'0' * 32}"
    response = httpx.post(url, content=b"x" * (1024 * 1024 + 1), timeout=10)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_the_admin_shows_a_builds_webhooks_and_tools(admin_client, deployed, hooks):
    page = admin_client.get(f"/admin/builds/build/{deployed.pk}/change/").content.decode()
    assert hooks[("shop", "orders")] in page
    assert "app_hooks_add_numbers" in page


def test_a_verified_custom_domain_serves_the_short_forms(web, deployed, environment, settings):
    settings.ALLOWED_HOSTS = ["hooks.example.com", "testserver"]
    Domain.objects.create(
        environment=environment, domain="hooks.example.com", verified_at=timezone.now()
    )
    hook = deployed.webhooks.get(service="shop", path="orders")
    # The endpoint is found (its method is checked next), so the host named the environment.
    response = web.get(f"/webhook/shop/orders/{hook.token}", HTTP_HOST="hooks.example.com")
    assert response.status_code == 405
    listed = web.post(
        "/mcp/calc",
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        format="json",
        HTTP_HOST="hooks.example.com",
    )
    assert listed.status_code == 200
    assert len(listed.json()["result"]["tools"]) == 3
    # An unverified domain is not served.
    Domain.objects.update(verified_at=None)
    response = web.get(f"/webhook/shop/orders/{hook.token}", HTTP_HOST="hooks.example.com")
    assert response.status_code == 404
