"""A real headless Chromium (the distribution's, driven by Playwright) against a live server.

``.ci/run`` installs the ``chromium`` package; Playwright's own browser download is never used.
Screenshots go to ``var/screenshots/`` (kept as CI artifacts).
"""

import os

import pytest
from django.contrib.auth import get_user_model

from tests.live import BASE_DIR, require_tool

CHROMIUM = os.environ.get("HOT_TEST_CHROMIUM", "/usr/bin/chromium")
# Without the networking switches Chromium reaches for the internet (updates, sync, QUIC).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = BASE_DIR / "var" / "screenshots"
ADMIN_PASSWORD = "a-browser-test-password"


@pytest.fixture(scope="module")
def browser(django_db_setup):
    require_tool(CHROMIUM, "the distribution's chromium package")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Playwright's sync API keeps an event loop in this thread, so Django would take the
    # tests' own (synchronous) ORM calls for calls from async code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def attempted():
    """Every request the page made to another origin."""
    return []


@pytest.fixture
def page(browser, hot_server, attempted):
    context = browser.new_context(base_url=hot_server.url, viewport={"width": 1400, "height": 900})

    def record(request):
        if not request.url.startswith((hot_server.url, "data:", "blob:")):
            attempted.append(request)

    context.on("request", record)
    yield context.new_page()
    context.close()


@pytest.fixture
def operator(transactional_db):
    return get_user_model().objects.create_superuser("operator", "op@example.com", ADMIN_PASSWORD)


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def requests_outside(attempted) -> list[str]:
    """Requests to other origins, except those our Content-Security-Policy stopped."""
    return [r.url for r in attempted if r.failure != "csp"]  # Playwright's word for it
