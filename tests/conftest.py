"""Shared fixtures: environments with real API keys, HTTP clients, a live server."""

import os
import shutil

import pytest
from django.db import connection
from rest_framework.test import APIClient

from environments.services import api_key_issue, environment_ensure
from projects.models import Project

from .live import TEST_ENCRYPTION_KEY, hot_server, make_hot_server  # noqa: F401  (fixtures)
from .redis_server import redis_url  # noqa: F401  (fixture)
from .s3 import s3_endpoint  # noqa: F401  (fixture)
from .worker import (  # noqa: F401  (fixtures)
    celery_queue,
    celery_worker_process,
    maintenance_process,
)


@pytest.fixture(autouse=True)
def _encryption_key(settings):
    settings.HOT_ENCRYPTION_KEY = TEST_ENCRYPTION_KEY
    settings.HOT_ENCRYPTION_OLD_KEYS = []


@pytest.fixture(scope="session")
def storage_dir(tmp_path_factory):
    """Local build storage for the session; child processes get it as HOT_STORAGE_DIR."""
    path = tmp_path_factory.mktemp("storage")
    os.environ["HOT_STORAGE_DIR"] = str(path)
    return path


@pytest.fixture(autouse=True)
def _fresh_storage(settings, storage_dir):
    for child in storage_dir.iterdir():
        shutil.rmtree(child)
    storages = dict(settings.STORAGES)
    storages["builds"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(storage_dir / "builds")},
    }
    storages["files"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(storage_dir / "files")},
    }
    settings.STORAGES = storages


PROCESS_FIXTURES = {
    "celery_worker_process",
    "hot_server",
    "make_hot_server",
    "maintenance_process",
}


@pytest.fixture(autouse=True)
def _unconsumed_queue_for_in_process_tests(request):
    """Tests that call tasks in-process must not race the session's worker for the messages
    their code enqueues, so those messages go to a queue no worker consumes."""
    from hotapi.celery import app

    if PROCESS_FIXTURES & set(request.fixturenames):
        yield
        return
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = "hot-test-unconsumed"
    yield
    app.conf.task_default_queue = previous


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    from django.core.cache import cache

    from hotapi.api import throttling

    cache.clear()
    throttling._leases = throttling.Leases()  # this process's blocks of the counters below
    if settings.REDIS_URL:  # rate-limit counters live in Redis directly
        from hotapi.redis_client import redis_client

        keys = list(redis_client().scan_iter("hot:rate:*"))
        if keys:
            redis_client().delete(*keys)


@pytest.fixture
def driver_commands(monkeypatch):
    """The commands psycopg sends on its own (``BEGIN``, ``COMMIT``, ``ROLLBACK``), which
    Django's query capture does not see; empty on SQLite."""
    sent: list[bytes] = []
    if connection.vendor != "postgresql":
        return sent
    from psycopg._connection_base import BaseConnection

    original = BaseConnection._exec_command

    def recording(self, command, *args, **kwargs):
        sent.append(bytes(command))
        return (yield from original(self, command, *args, **kwargs))

    monkeypatch.setattr(BaseConnection, "_exec_command", recording)
    return sent


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
