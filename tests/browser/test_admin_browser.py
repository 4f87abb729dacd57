"""The operator's main paths in a real browser: log in, the dashboard, issue and revoke a key,
browse a run, cancel one, and the API docs, all styled and served by the service alone."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from runs.models import Run
from runs.routing import event_route
from tests.e2e.conftest import deploy_source

from .conftest import ADMIN_PASSWORD, requests_outside, shot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def log_in(page) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#hot-dashboard")


def test_operator_paths(page, attempted, operator, project, hot_server):
    deploy_source(project)
    log_in(page)
    # Styled: Django's stylesheet arrived and applies (the header is not a plain block).
    assert page.evaluate("document.styleSheets.length") > 0
    header = page.evaluate("getComputedStyle(document.querySelector('#header')).display")
    assert header == "flex"
    assert page.locator("#hot-workers").is_visible()
    shot(page, "01-dashboard")

    # Issue a key: shown once on its own page, with a copy button.
    page.goto("/admin/environments/apikey/add/")
    page.select_option("#id_environment", label=str(project.environment))
    page.fill("#id_name", "browser")
    page.click("input[name=_save]")
    page.wait_for_selector("#hot-token")
    token = page.input_value("#hot-token")
    assert re.fullmatch(r"hot_[0-9a-f]{32}_[0-9a-f]{64}", token)
    assert page.locator("#hot-copy").is_visible()
    shot(page, "02-key-issued")
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{hot_server.url}/v1/env", headers=headers).status_code == 200

    # Revoke it from its own page, through the confirmation.
    page.click("text=I have copied it")
    page.click("text=Revoke this key")
    page.fill("#id_reason", "browser test")
    shot(page, "03-revoke-confirm")
    page.click("input[type=submit][value^='Yes']")
    page.wait_for_selector("text=Revoked: 1 of 1")
    assert httpx.get(f"{hot_server.url}/v1/env", headers=headers).status_code == 401
    page.click("text=History")
    # A click does not wait for the page it opens: the assertion waits for it.
    expect(page.locator("text=Revoked (reason: browser test)")).to_be_visible()

    # Browse a run, then cancel one.
    event = project.environment.events.create(
        stream=project.environment.streams.create(),
        event_type="slow.start",
        event_data={},
        event_time="2026-01-01T00:00:00Z",
    )
    (run_id,) = event_route(event_id=event.pk)
    page.goto("/admin/runs/run/")
    page.click(f"text={str(run_id)[:8]}…")
    expect(page.locator(".hot-timeline")).to_be_visible()
    shot(page, "04-run")
    page.click("text=Cancel run")
    page.click("input[type=submit][value^='Yes']")
    page.wait_for_selector("text=Cancellation requested: 1 of 1")
    run = Run.objects.get(pk=run_id)
    assert run.status == "cancelled" or run.cancel_requested
    shot(page, "05-run-cancelled")
    assert requests_outside(attempted) == []


def test_api_docs_render_offline(page, attempted):
    page.goto("/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Hot API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag-section")
    shot(page, "06-docs")
    page.goto("/v1/redoc")
    page.wait_for_selector("h1:has-text('Hot API')")
    shot(page, "07-redoc")
    assert requests_outside(attempted) == []
