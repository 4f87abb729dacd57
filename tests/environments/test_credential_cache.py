"""The verified-credential cache: two live server processes (the REST API's gunicorn and the
SSE server's uvicorn) each answer a known token from memory, and every revocation — in the
admin, through the API on the other process, by deleting the row, by expiry or by deactivating
the environment — takes effect on the very next request in both."""

import os
import signal
import threading
import time
from datetime import datetime
from types import SimpleNamespace

import httpx
import pytest
import redis
from django.db import connection
from django.utils import timezone

from environments import credential_cache
from environments.models import ApiKey, ServiceKey, Session
from environments.services import api_key_issue, api_key_revoke, session_create
from hotapi import redis_client as redis_client_module
from tests.redis_server import RedisServer
from tests.worker import wait_for

live = pytest.mark.django_db(transaction=True)

ENV_READ = {"env:*": ["read"]}
RUN_READ = {"run:*": ["read"]}  # service keys grant only run, stream, event, webhook, mcp


@pytest.fixture
def servers(redis_url, make_hot_server):
    return [
        make_hot_server("gunicorn", REDIS_URL=redis_url, HOT_CREDENTIAL_CACHE_SECONDS="60"),
        make_hot_server("uvicorn", REDIS_URL=redis_url, HOT_CREDENTIAL_CACHE_SECONDS="60"),
    ]


def _statuses(servers, token: str, path: str = "/v1/env") -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    return [httpx.get(f"{s.url}{path}", headers=headers, timeout=10).status_code for s in servers]


def _mint(server, token: str, path: str, body: dict) -> dict:
    response = httpx.post(
        f"{server.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


@pytest.mark.slow
@live
def test_revocations_reach_every_process_on_the_next_request(servers, environment, admin_client):
    revoked_in_admin = api_key_issue(environment=environment, name="admin-revoked")
    behind_the_back = api_key_issue(environment=environment, name="changed-in-sql")
    owner = api_key_issue(environment=environment, name="owner")
    for issued in (revoked_in_admin, behind_the_back, owner):
        assert _statuses(servers, issued.token) == [200, 200]  # verified and remembered

    # The cache is on: a change that bypasses the service (raw SQL) is not seen yet.
    field = ApiKey._meta.get_field
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ApiKey._meta.db_table} SET revoked_at = %s WHERE id = %s",
            [
                field("revoked_at").get_db_prep_value(timezone.now(), connection),
                field("id").get_db_prep_value(behind_the_back.api_key.pk, connection),
            ],
        )
    assert _statuses(servers, behind_the_back.token) == [200, 200]

    # Revoked in the admin (in this process): refused at once by both servers.
    admin_client.post(
        "/admin/environments/apikey/",
        {
            "action": "revoke_keys",
            "_selected_action": [str(revoked_in_admin.api_key.pk)],
            "confirmed": "yes",
            "reason": "leaked",
        },
    )
    assert _statuses(servers, revoked_in_admin.token) == [401, 401]
    # Every cached credential was re-read, so the raw change is now seen too.
    assert _statuses(servers, behind_the_back.token) == [401, 401]
    assert _statuses(servers, owner.token) == [200, 200]

    # A session revoked through the API on one process is refused by the other.
    session = _mint(servers[0], owner.token, "/v1/sessions", {"permissions": ENV_READ})
    assert _statuses(servers, session["token"]) == [200, 200]
    revoke = httpx.delete(
        f"{servers[0].url}/v1/sessions/{session['session_id']}",
        headers={"Authorization": f"Bearer {owner.token}"},
        timeout=10,
    )
    assert revoke.status_code == 204
    assert _statuses(servers[::-1], session["token"]) == [401, 401]

    # A deleted service key.
    service_key = _mint(servers[1], owner.token, "/v1/service-keys", {"permissions": RUN_READ})
    assert _statuses(servers, service_key["token"], "/v1/runs") == [200, 200]
    ServiceKey.objects.filter(pk=service_key["service_key_id"]).delete()
    assert _statuses(servers, service_key["token"], "/v1/runs") == [401, 401]

    # An expired session: no bump needed, the entry ends with the credential.
    short = _mint(
        servers[0], owner.token, "/v1/sessions", {"permissions": ENV_READ, "expires_in": 2}
    )
    assert _statuses(servers, short["token"]) == [200, 200]
    expires_at = datetime.fromisoformat(short["expires_at"].replace("Z", "+00:00"))
    time.sleep(max(0.0, expires_at.timestamp() - time.time()) + 0.1)
    assert _statuses(servers, short["token"]) == [401, 401]

    # A deactivated environment refuses every key it has.
    environment.active = False
    environment.save()
    assert _statuses(servers, owner.token) == [401, 401]


@pytest.mark.slow
@live
def test_a_stalled_process_stops_trusting_its_cache_when_its_lease_runs_out(
    make_hot_server, redis_url, environment, caplog
):
    server = make_hot_server("uvicorn", REDIS_URL=redis_url, HOT_CREDENTIAL_CACHE_SECONDS="60")
    issued = api_key_issue(environment=environment, name="stalled")
    assert _statuses([server], issued.token) == [200]  # verified and remembered

    # A process that cannot acknowledge (stopped here; in life a long pause, a lost link).
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        api_key_revoke(api_key=ApiKey.objects.get(pk=issued.api_key.pk))
        waited = time.monotonic() - started
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    # The revocation waited out the lease, no longer: past it the stalled process's last
    # proof that it had seen every change is too old for it to answer from memory.
    assert credential_cache.LEASE_SECONDS <= waited < credential_cache.LEASE_SECONDS + 3
    assert any("did not acknowledge" in r.getMessage() for r in caplog.records)
    assert _statuses([server], issued.token) == [401]


def test_a_row_read_while_a_change_arrived_is_not_kept(settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # enabled; the listener is never started
    settings.HOT_CREDENTIAL_CACHE_SECONDS = 60
    monkeypatch.setattr(credential_cache._state, "listener", object())
    monkeypatch.setattr(credential_cache._state, "confirmed_at", time.monotonic())
    monkeypatch.setattr(credential_cache.transaction, "on_commit", lambda callback: None)
    credential = object()

    read_in = credential_cache.generation()
    credential_cache.store("hot_kept", credential, read_in, None)
    assert credential_cache.lookup("hot_kept").credential is credential

    read_in = credential_cache.generation()  # a row is read...
    credential_cache.credentials_changed()  # ...while a change arrives
    credential_cache.store("hot_late", credential, read_in, None)
    assert credential_cache.lookup("hot_late") is None
    assert credential_cache.lookup("hot_kept") is None  # every entry was dropped

    # And without a fresh proof from the listener nothing is answered from memory.
    credential_cache.store("hot_fresh", credential, credential_cache.generation(), None)
    assert credential_cache.lookup("hot_fresh").credential is credential
    monkeypatch.setattr(
        credential_cache._state,
        "confirmed_at",
        time.monotonic() - credential_cache.LEASE_SECONDS,
    )
    assert credential_cache.lookup("hot_fresh") is None


def test_a_listener_that_falls_behind_stops_answering_within_its_lease(
    redis_url, settings, monkeypatch
):
    settings.HOT_CREDENTIAL_CACHE_SECONDS = 60
    monkeypatch.setattr(credential_cache, "_state", credential_cache._State())
    credential_cache.generation()  # starts the listener, which confirms its subscription
    wait_for(lambda: credential_cache._state.confirmed_at > 0, timeout=10, interval=0.05)
    credential = object()
    credential_cache.store("hot_behind", credential, credential_cache.generation(), None)
    assert credential_cache.lookup("hot_behind").credential is credential
    time.sleep(credential_cache.LEASE_SECONDS)  # pongs keep renewing the proof
    assert credential_cache.lookup("hot_behind").credential is credential

    # The listener receives the next change but cannot apply it (a stalled thread).
    stuck = threading.Event()
    monkeypatch.setattr(credential_cache, "_forget_all", stuck.wait)
    try:
        started = time.monotonic()
        credential_cache._publish()
        waited = time.monotonic() - started
        assert waited >= credential_cache.LEASE_SECONDS
        assert credential_cache.lookup("hot_behind") is None
    finally:
        stuck.set()


@live
def test_a_change_of_many_rows_is_published_once(environment, redis_url, monkeypatch):
    published: list[int] = []
    monkeypatch.setattr(credential_cache, "_publish", lambda: published.append(1))
    owner = api_key_issue(environment=environment, name="many-sessions").api_key
    for _ in range(5):
        session_create(api_key=owner, permissions=ENV_READ)
    assert published == []  # a new credential ends none

    Session.objects.filter(api_key=owner).delete()  # a signal per row, one transaction
    assert published == [1]
    api_key_revoke(api_key=owner)  # autocommit: published at once
    assert published == [1, 1]


def test_the_cache_rests_while_redis_is_away_and_resumes_after(settings, monkeypatch, tmp_path):
    server = RedisServer(tmp_path / "redis.log")
    settings.REDIS_URL = server.url
    settings.HOT_CREDENTIAL_CACHE_SECONDS = 60
    redis_client_module.redis_client.cache_clear()
    monkeypatch.setattr(credential_cache, "_state", credential_cache._State())
    credential = object()

    def cached_after_storing() -> bool:
        credential_cache.store("hot_outage", credential, credential_cache.generation(), None)
        return credential_cache.lookup("hot_outage") is not None

    try:
        wait_for(cached_after_storing, timeout=10, interval=0.05, message="the cache")
        server.stop()
        # The lost connection ends the proof at once: nothing is answered from memory.
        wait_for(
            lambda: credential_cache.lookup("hot_outage") is None,
            timeout=2,
            interval=0.05,
            message="the cache to stop answering",
        )
        assert not cached_after_storing()
        server.start()
        # The listener subscribes again by itself, and the cache is used again.
        wait_for(cached_after_storing, timeout=10, interval=0.05, message="the cache again")
    finally:
        server.stop()
        redis_client_module.redis_client.cache_clear()


def test_a_listener_whose_connection_stops_answering_starts_a_new_one(settings, monkeypatch):
    # A half-open connection (a peer gone without a word) never fails a read: the listener
    # must notice that its pings go unanswered, or the cache would stay off for good.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(credential_cache, "_state", credential_cache._State())
    monkeypatch.setattr(credential_cache, "LEASE_SECONDS", 0.2)
    monkeypatch.setattr(credential_cache, "PING_SECONDS", 0.05)

    class SilentPubSub:
        """Confirms the subscription, then never answers again."""

        def __init__(self):
            self.pings = 0
            self.confirmed = False
            self.since = time.monotonic()

        def subscribe(self, channel):
            pass

        def ping(self, message):
            self.pings += 1

        def get_message(self, timeout):
            if not self.confirmed:
                self.confirmed = True
                return {"type": "subscribe", "data": 1}
            if time.monotonic() - self.since > 3:
                raise AssertionError("the listener kept waiting on a silent connection")
            time.sleep(timeout)
            return None

        def close(self):
            pass

    pubsub = SilentPubSub()
    client = SimpleNamespace(
        connection_pool=SimpleNamespace(connection_kwargs={"db": 0}), pubsub=lambda: pubsub
    )
    monkeypatch.setattr(credential_cache, "redis_client", lambda: client)
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        credential_cache._Listener()._listen()
    assert pubsub.pings >= 2
    assert time.monotonic() - started < 2
