"""Webhooks against a live server and a real worker: every auth mode, the result mapping,
failures, the timeout, and the run each call leaves."""

import concurrent.futures

import httpx
import pytest

from environments.services import api_key_issue, service_key_create, session_create
from runs.models import Run, RunLog
from tests.worker import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def live(hot_server, celery_worker_process):
    return hot_server


def test_public_webhook_runs_the_function_and_maps_its_response(live, hooks):
    response = httpx.post(
        f"{live.url}{hooks[('shop', 'orders')]}?ref=42",
        json={"item": "book", "qty": 2},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert response.headers["x-order"] == "accepted"
    assert response.json() == {
        "method": "POST",
        "got": {"item": "book", "qty": 2},
        "query": {"ref": "42"},
        "url": "/webhook/shop/orders",
    }
    run = Run.objects.get(pk=response.headers["x-hot-run-id"])
    assert (run.run_type, run.status, run.function) == ("call", "succeeded", "::app::hooks/echo")
    assert run.args[0]["body"] == {"item": "book", "qty": 2}
    logs = list(RunLog.objects.filter(run=run).values_list("message", flat=True))
    assert any("order received: POST" in line for line in logs), logs


def test_plain_value_is_a_200_json_body_and_root_path_works(live, hooks):
    response = httpx.get(f"{live.url}{hooks[('shop', '')]}", timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True}


def test_result_mapping_status_only_plain_text_and_framing_headers(live, hooks):
    url = f"{live.url}{hooks[('shop', 'respond')]}"
    empty = httpx.post(f"{url}?kind=empty", timeout=30)
    assert (empty.status_code, empty.content) == (204, b"")
    text = httpx.post(f"{url}?kind=text", timeout=30)
    assert (text.status_code, text.json()) == (200, "just text")
    framed = httpx.post(f"{url}?kind=other", timeout=30)
    # The function's content-length is left out: the body arrives whole.
    assert (framed.status_code, framed.json()) == (202, [1, 2])
    assert framed.headers["x-kind"] == "framed"


def test_required_auth_accepts_api_keys_sessions_and_service_keys_with_the_permission(
    live, hooks, environment
):
    url = f"{live.url}{hooks[('internal', 'sync')]}"
    anonymous = httpx.post(url, json={}, timeout=30)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.json()["error"]["code"] == "unauthorized"

    key = api_key_issue(environment=environment, name="hooks").token
    response = httpx.post(url, json={}, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert response.status_code == 200, response.text
    # The platform consumed the credential: the function sees who called, not the token.
    assert response.json() == {"caller": "api-key", "has-authorization": False}

    parent = api_key_issue(environment=environment, name="parent").api_key
    allowed = service_key_create(
        api_key=parent, permissions={"webhook:internal/*": ["execute"]}
    ).token
    response = httpx.post(url, json={}, headers={"Authorization": f"Bearer {allowed}"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["caller"] == "service-key"

    session = session_create(api_key=parent, permissions={"webhook:*": ["execute"]}).token
    response = httpx.post(url, json={}, headers={"Authorization": f"Bearer {session}"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["caller"] == "session"

    other = service_key_create(api_key=parent, permissions={"webhook:shop": ["execute"]}).token
    response = httpx.post(url, json={}, headers={"Authorization": f"Bearer {other}"}, timeout=30)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"

    bad = httpx.post(url, json={}, headers={"Authorization": "Bearer nope"}, timeout=30)
    assert bad.status_code == 401


def test_a_failing_function_answers_500_with_its_run(live, hooks):
    response = httpx.post(f"{live.url}{hooks[('shop', 'broken')]}", json={}, timeout=30)
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "webhook_function_failed"
    assert "kaput" in error["message"]
    assert Run.objects.get(pk=error["run_id"]).status == "failed"


def test_timeout_cancels_the_run_and_answers_504(make_hot_server, celery_worker_process, hooks):
    server = make_hot_server(HOT_WEBHOOK_TIMEOUT_SECONDS="1")
    response = httpx.post(f"{server.url}{hooks[('shop', 'slow')]}", json={}, timeout=30)
    assert response.status_code == 504
    error = response.json()["error"]
    assert error["code"] == "webhook_timeout"
    run = Run.objects.get(pk=error["run_id"])
    assert run.cancel_requested


def test_calls_waiting_at_once_are_capped_per_environment(
    make_hot_server, celery_worker_process, hooks, deployed
):
    server = make_hot_server(HOT_INGRESS_MAX_WAITING_CALLS="1", HOT_WEBHOOK_TIMEOUT_SECONDS="3")
    slow = f"{server.url}{hooks[('shop', 'slow')]}"
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(httpx.post, slow, json={}, timeout=30)
        wait_for(lambda: Run.objects.filter(function="::app::hooks/slow").exists())
        refused = httpx.post(f"{server.url}{hooks[('shop', 'orders')]}", json={}, timeout=30)
        mcp = httpx.post(
            f"{server.url}/mcp/default/testing/calc",
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "app_hooks_greet", "arguments": {"name": "x"}},
            },
            timeout=30,
        )
        assert waiting.result().status_code == 504
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_calls_in_flight"
    assert mcp.status_code == 429 and mcp.json()["error"]["code"] == -32000
    assert Run.objects.count() == 1  # the refused calls made no run
