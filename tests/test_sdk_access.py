"""The official hot-dev SDK, unmodified, against a live server: every method of its sessions,
service_keys, org and domains resources, and what the tokens they mint may do."""

import asyncio
import uuid

import pytest
from hot import AsyncHotClient, HotClient
from hot.errors import HotApiError

from environments.services import api_key_issue
from tests.dns_server import LocalDnsServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _client(server, token: str) -> HotClient:
    return HotClient(token=token, base_url=server.url, timeout=30)


@pytest.fixture
def sdk(hot_server, environment):
    with _client(hot_server, api_key_issue(environment=environment, name="sdk").token) as client:
        yield client


def _status(call) -> int:
    with pytest.raises(HotApiError) as excinfo:
        call()
    return excinfo.value.status_code


def test_sessions(sdk, hot_server):
    stream_id = str(uuid.uuid4())
    created = sdk.sessions.create(
        {
            "permissions": {"event:chat.*": ["create"], f"stream:{stream_id}": ["read"]},
            "metadata": {"user_id": "u-42"},
            "expires_in": 600,
        }
    )
    assert created["token"].startswith("s_") and created["metadata"] == {"user_id": "u-42"}
    listed = sdk.sessions.list(limit=10)
    assert listed["pagination"]["total"] == 1
    assert listed["data"][0]["session_id"] == created["session_id"]

    with _client(hot_server, created["token"]) as browser:
        # What it holds: publish chat events on its stream and follow that stream.
        events = browser.streams.subscribe_with_event(
            {"event_type": "chat.message", "event_data": {"text": "hi"}, "stream_id": stream_id},
            reconnect=False,
        )
        first = next(events)
        events.close()
        assert first["type"] == "event:published" and first["stream_id"] == stream_id
        # Nothing else: other event types, other streams, reading events, admin resources.
        assert (
            _status(lambda: browser.events.publish({"event_type": "user.x", "event_data": 1}))
            == 403
        )
        assert _status(lambda: next(browser.streams.subscribe(str(uuid.uuid4())))) == 403
        assert _status(browser.events.list) == 403
        assert _status(browser.projects.list) == 403
        assert _status(lambda: browser.sessions.create({"permissions": {}})) == 403

        sdk.sessions.revoke(created["session_id"])
        assert (
            _status(lambda: browser.events.publish({"event_type": "chat.x", "event_data": 1}))
            == 401
        )

    for _ in range(3):
        sdk.sessions.create({"permissions": {"run:*": ["read"]}})
    assert sdk.sessions.revoke_all() == {"revoked_count": 3}
    assert sdk.sessions.list()["data"] == []


def test_service_keys(sdk, hot_server):
    created = sdk.service_keys.create(
        {
            "name": "Acme",
            "description": "Acme Corp production",
            "permissions": {"event:*": ["create", "read"], "run:*": ["read"]},
            "metadata": {"customer_id": "acme-123"},
        }
    )
    key_id = created["service_key_id"]
    assert not created["token"].startswith(("hot_", "s_"))
    assert sdk.service_keys.get(key_id)["name"] == "Acme"
    updated = sdk.service_keys.update(key_id, {"metadata": {"customer_id": "acme-456"}})
    assert updated["metadata"] == {"customer_id": "acme-456"}
    second = sdk.service_keys.create({"permissions": {"stream:*": ["read"]}})
    listed = sdk.service_keys.list(limit=1)
    assert listed["pagination"] == {"total": 2, "limit": 1, "offset": 0, "has_more": True}

    with _client(hot_server, created["token"]) as customer:
        assert customer.events.publish({"event_type": "order.placed", "event_data": {}})
        assert customer.runs.list()["data"] == []
        assert _status(customer.env.get) == 403
        sdk.service_keys.revoke(key_id)
        assert _status(customer.runs.list) == 401
    assert sdk.service_keys.get(key_id)["revoked_at"]
    assert sdk.service_keys.revoke_all() == {"revoked_count": 1}
    assert sdk.service_keys.get(second["service_key_id"])["revoked_at"]
    with pytest.raises(HotApiError) as excinfo:
        sdk.service_keys.create({"permissions": {"project:*": ["read"]}})
    assert excinfo.value.status_code == 400


def test_org_usage(sdk, environment):
    usage = sdk.org.usage()
    assert usage["org_id"] == str(environment.organization_id)
    assert isinstance(usage["usage"]["runs_this_period"], int)
    assert isinstance(usage["limits"]["storage_bytes"], int)
    assert isinstance(usage["usage_percent"]["has_warning"], bool)
    assert usage["plan"]["name"] == "Self-Hosted"


def test_domains(make_hot_server, environment):
    dns = LocalDnsServer()
    try:
        server = make_hot_server(HOT_DNS_NAMESERVERS=dns.address, HOT_DNS_TIMEOUT_SECONDS="2")
        with _client(server, api_key_issue(environment=environment).token) as sdk:
            domain = sdk.domains.create({"domain": "mcp.example.com"})
            assert domain["status"] == "pending_validation"
            assert sdk.domains.list()["pagination"]["total"] == 1
            assert sdk.domains.get(domain["domain_id"])["domain"] == "mcp.example.com"
            assert sdk.domains.verify(domain["domain_id"])["status"] == "pending_validation"
            (record,) = domain["dns_records"]
            dns.add(record["name"], record["type"], f'"{record["value"]}"')
            verified = sdk.domains.verify(domain["domain_id"])
            assert verified["status"] == "validated", verified["message"]
            sdk.domains.delete(domain["domain_id"])
            assert sdk.domains.list()["data"] == []
    finally:
        dns.stop()


def test_limit_above_the_maximum_is_clamped(sdk):
    assert sdk.runs.list(limit=1000)["pagination"]["limit"] == 500


def test_creating_an_existing_project_returns_it(sdk):
    first = sdk.projects.create({"name": "My_App"})
    assert sdk.projects.create({"name": "My_App"})["project_id"] == first["project_id"]


def test_async_client_sessions_and_service_keys(hot_server, environment):
    token = api_key_issue(environment=environment).token

    async def scenario():
        async with AsyncHotClient(token=token, base_url=hot_server.url, timeout=30) as client:
            session = await client.sessions.create({"permissions": {"run:*": ["read"]}})
            assert (await client.sessions.list())["pagination"]["total"] == 1
            await client.sessions.revoke(session["session_id"])
            key = await client.service_keys.create({"permissions": {"run:*": ["read"]}})
            assert (await client.service_keys.get(key["service_key_id"]))["revoked_at"] is None
            assert await client.service_keys.revoke_all() == {"revoked_count": 1}
            assert (await client.org.usage())["plan"]["name"] == "Self-Hosted"
            assert (await client.domains.list())["data"] == []

    asyncio.run(scenario())
