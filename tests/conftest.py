"""Shared fixtures: environments with real API keys, HTTP clients, a live server."""

import pytest
from rest_framework.test import APIClient

from environments.services import api_key_issue, environment_ensure
from projects.models import Project

from .live import TEST_ENCRYPTION_KEY, hot_server  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def _encryption_key(settings):
    settings.HOT_ENCRYPTION_KEY = TEST_ENCRYPTION_KEY
    settings.HOT_ENCRYPTION_OLD_KEYS = []


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def environment(db):
    return environment_ensure(name="testing")


@pytest.fixture
def other_environment(db):
    return environment_ensure(name="elsewhere")


def _client_for(environment) -> APIClient:
    issued = api_key_issue(environment=environment, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.token}")
    client.token = issued.token
    client.api_key = issued.api_key
    return client


@pytest.fixture
def api(environment) -> APIClient:
    """A client authenticated with a fresh key of ``environment``."""
    return _client_for(environment)


@pytest.fixture
def other_api(other_environment) -> APIClient:
    return _client_for(other_environment)


@pytest.fixture
def project(environment) -> Project:
    return Project.objects.create(environment=environment, name="billing")
