"""MCP against a live server and a real worker, with the official ``mcp`` client: the
Streamable HTTP transport (the client's automatic negotiation falls back to the initialize
handshake) and the legacy HTTP+SSE transport."""

import asyncio

import httpx
import httpx2
import pytest
from mcp import Client, ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from environments.services import api_key_issue, service_key_create, session_create
from runs.models import Run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def live(hot_server, celery_worker_process):
    return hot_server


@pytest.fixture
def url(live, deployed):
    return f"{live.url}/mcp/default/testing/calc"


def client(url: str, token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers)))


def test_a_client_session_lists_and_calls_the_tools(url, environment):
    token = api_key_issue(environment=environment, name="mcp").token

    async def session():
        async with client(url, token) as mcp:
            listed = await mcp.list_tools()
            added = await mcp.call_tool("app_hooks_add_numbers", {"a": 2, "b": 40})
            greeted = await mcp.call_tool("app_hooks_greet", {"name": "Ada", "excited": True})
            failed = await mcp.call_tool("app_hooks_explode", {})
            return listed, added, greeted, failed

    listed, added, greeted, failed = asyncio.run(session())
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == {"app_hooks_add_numbers", "app_hooks_greet", "app_hooks_explode"}
    assert tools["app_hooks_add_numbers"].input_schema == {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    }
    assert tools["app_hooks_add_numbers"].description == "Add two integers"
    assert tools["app_hooks_greet"].title == "Greeting"
    assert tools["app_hooks_greet"].input_schema["required"] == ["name"]

    assert not added.is_error
    assert added.content[0].text == "42"
    assert added.structured_content == {"result": 42}
    assert greeted.content[0].text == "Hello, Ada!"
    assert failed.is_error and "tool exploded" in failed.content[0].text

    run = Run.objects.get(pk=added.meta["hot.dev/run_id"])
    assert (run.run_type, run.status, run.args) == ("call", "succeeded", [2, 40])


def test_auth_required_tools_need_an_mcp_permission(url, environment):
    parent = api_key_issue(environment=environment, name="parent").api_key
    allowed = service_key_create(
        api_key=parent, permissions={"mcp:calc/app_hooks_add_numbers": ["execute"]}
    ).token
    other = service_key_create(api_key=parent, permissions={"mcp:weather": ["execute"]}).token
    session = session_create(api_key=parent, permissions={"mcp:calc": ["execute"]}).token

    async def calls():
        async with client(url) as anonymous:
            public = await anonymous.call_tool("app_hooks_greet", {"name": "Bo"})
            with pytest.raises(MCPError) as refused:
                await anonymous.call_tool("app_hooks_add_numbers", {"a": 1, "b": 1})
        async with client(url, allowed) as scoped:
            added = await scoped.call_tool("app_hooks_add_numbers", {"a": 1, "b": 1})
        async with client(url, session) as in_session:
            again = await in_session.call_tool("app_hooks_add_numbers", {"a": 2, "b": 2})
            assert again.content[0].text == "4"
        async with client(url, other) as unrelated:
            with pytest.raises(MCPError) as forbidden:
                await unrelated.call_tool("app_hooks_add_numbers", {"a": 1, "b": 1})
        return public, refused.value, added, forbidden.value

    public, refused, added, forbidden = asyncio.run(calls())
    assert public.content[0].text == "Hello, Bo"
    assert refused.error.code == -32001
    assert added.content[0].text == "2"
    assert forbidden.error.code == -32003


def test_protocol_errors_are_mcp_errors(url, environment):
    token = api_key_issue(environment=environment, name="mcp").token

    async def calls():
        errors = []
        async with client(url, token) as mcp:
            for name, arguments in (
                ("no_such_tool", {}),
                ("app_hooks_add_numbers", {"a": 1}),
                ("app_hooks_add_numbers", {"a": 1, "b": 2, "c": 3}),
            ):
                with pytest.raises(MCPError) as error:
                    await mcp.call_tool(name, arguments)
                errors.append(error.value.error)
        return errors

    unknown, missing, extra = asyncio.run(calls())
    assert (unknown.code, unknown.message) == (-32602, "Unknown tool: no_such_tool")
    assert missing.code == -32602 and "'b'" in missing.message
    assert extra.code == -32602 and "'c'" in extra.message


def test_malformed_json_rpc_gets_json_rpc_errors(url):
    not_json = httpx.post(url, content=b"{nope", timeout=10)
    assert not_json.status_code == 200
    assert not_json.json()["error"]["code"] == -32700
    not_rpc = httpx.post(url, json={"hello": 1}, timeout=10)
    assert not_rpc.json()["error"]["code"] == -32600
    unknown = httpx.post(url, json={"jsonrpc": "2.0", "id": 7, "method": "nope"}, timeout=10)
    assert unknown.json() == {
        "jsonrpc": "2.0",
        "id": 7,
        "error": {"code": -32601, "message": "Method not found: nope"},
    }
    notification = httpx.post(
        url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, timeout=10
    )
    assert notification.status_code == 202
    for session in ("nope", "0b3f5a3e-8a44-4d7e-9d5b-1b2a3c4d5e6f"):
        stray = httpx.post(
            f"{url}/messages?sessionId={session}",
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            timeout=10,
        )
        assert stray.status_code == 404
        assert stray.json()["error"]["message"] == "Unknown or expired sessionId"
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    batch = httpx.post(url, json=[ping, {**ping, "id": 2}], timeout=10)
    assert [answer["id"] for answer in batch.json()] == [1, 2]
    too_many = httpx.post(url, json=[ping] * 17, timeout=10)
    assert too_many.json()["error"]["code"] == -32600
    wrong_method = httpx.delete(url, timeout=10)
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET, POST"


def test_unknown_environment_is_a_404_envelope(live):
    response = httpx.post(f"{live.url}/mcp/default/nowhere/calc", json={}, timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_legacy_sse_transport_lists_and_calls(url, environment):
    token = api_key_issue(environment=environment, name="mcp").token

    async def session():
        headers = {"Authorization": f"Bearer {token}"}
        async with sse_client(url, headers=headers) as (read, write):
            async with ClientSession(read, write) as mcp:
                await mcp.initialize()
                listed = await mcp.list_tools()
                added = await mcp.call_tool("app_hooks_add_numbers", {"a": 5, "b": 6})
                return listed, added

    listed, added = asyncio.run(session())
    assert len(listed.tools) == 3
    assert added.content[0].text == "11"
