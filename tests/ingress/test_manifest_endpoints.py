"""The manifest's webhooks and mcp_tools sections: what is read, and what is refused."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from builds.bundle import BundleError, inspect_bundle
from builds.bundle.manifest import interpret_manifest
from builds.bundle.scan import scan_sources
from builds.bundle.writer import bundle_project
from tests import bundles

from .source import SOURCE, TOOLS, WEBHOOKS


def manifest(webhooks=None, mcp_tools=None, **extra):
    return bundles.manifest_data(
        {bundles.DEFAULT_SOURCE_PATH: SOURCE.encode()},
        handlers=(),
        schedules=(),
        webhooks=webhooks if webhooks is not None else bundles.webhook_entries(WEBHOOKS, SOURCE),
        mcp_tools=mcp_tools if mcp_tools is not None else bundles.mcp_tool_entries(TOOLS, SOURCE),
        extra_sections=extra or None,
    )


def test_webhooks_and_tools_are_read_with_hot_defaults():
    parsed = interpret_manifest(manifest())
    hooks = {(hook.service, hook.path, hook.method): hook for hook in parsed.webhooks}
    assert set(hooks) >= {("shop", "orders", "POST"), ("shop", "", "GET")}
    assert hooks[("internal", "sync", "POST")].auth == "required"
    assert hooks[("shop", "orders", "POST")].auth == "none"
    tools = {tool.name: tool for tool in parsed.mcp_tools}
    assert tools["app_hooks_add_numbers"].auth == "required"  # MCP's default
    assert tools["app_hooks_greet"].auth == "none"
    assert tools["app_hooks_greet"].title == "Greeting"
    assert tools["app_hooks_add_numbers"].input_schema is None  # derived at deploy
    assert parsed.unserved == ()


def test_fields_missing_from_the_entry_come_from_the_meta():
    entry = {"fn": "::app::hooks/echo", "meta": {"webhook": {"path": "/x/y/", "method": "put"}}}
    parsed = interpret_manifest(manifest(webhooks={"svc": [entry]}, mcp_tools={}))
    (hook,) = parsed.webhooks
    assert (hook.service, hook.path, hook.method, hook.name) == (
        "svc",
        "x/y",
        "PUT",
        "app_hooks_echo",
    )


@pytest.mark.parametrize(
    ("webhook", "message"),
    [
        ({"path": "/a"}, "has no fn"),
        ({"fn": "::app::hooks/echo"}, "has no path"),
        ({"fn": "::app::hooks/echo", "path": "/a b"}, "URL-safe"),
        ({"fn": "::app::hooks/echo", "path": "/a", "method": "TRACE"}, "not one of"),
        ({"fn": "::app::hooks/echo", "path": "/a", "auth_mode": "maybe"}, "auth must be"),
        ({"fn": "::app::hooks/echo", "path": "/a", "service": "bad/name"}, "URL-safe"),
    ],
)
def test_malformed_webhooks_are_refused_naming_the_entry(webhook, message):
    with pytest.raises(BundleError) as error:
        interpret_manifest(manifest(webhooks={"svc": [webhook]}, mcp_tools={}))
    assert message in error.value.message
    assert "webhooks['svc'][0]" in error.value.message


def test_one_endpoint_declared_by_two_functions_is_refused():
    entries = [
        {"fn": "::app::hooks/echo", "path": "/a"},
        {"fn": "::app::hooks/status", "path": "/a"},
    ]
    with pytest.raises(BundleError) as error:
        interpret_manifest(manifest(webhooks={"svc": entries}, mcp_tools={}))
    assert "declared by both" in error.value.message


def test_unserved_sections_are_named():
    parsed = interpret_manifest(
        manifest(agents=[{"name": "a"}], box_requirements={"network": True}, gizmos=[1])
    )
    assert len(parsed.unserved) == 3
    assert any("agents" in warning for warning in parsed.unserved)
    assert any("(gizmos)" in warning for warning in parsed.unserved)
    # Empty sections (what the CLI writes when a project has none) say nothing.
    assert interpret_manifest(manifest(agents=[], workflows=[], box_requirements={})).unserved == ()


def test_the_bundle_writer_finds_webhooks_and_tools_in_a_project(tmp_path, api, project):
    root = tmp_path / "billing"
    (root / "hot" / "src").mkdir(parents=True)
    (root / "hot" / "src" / "hooks.hot").write_text(SOURCE)
    (root / "hot" / "src" / "odd.hot").write_text(
        '::odd ns\n\nbad\nmeta {webhook: {service: "no good", path: "/x"}}\nfn (r) { r }\n\n'
        'typed\nmeta {mcp: {service: "calc", agent: Helper}}\nfn () { 1 }\n'
    )
    written = bundle_project(root)
    info = inspect_bundle(written.data, client_hash=written.bundle_hash)
    hooks = {(hook.service, hook.path, hook.method) for hook in info.manifest.webhooks}
    assert hooks == {
        (w["service"], w["path"].strip("/"), w.get("method", "POST")) for w in WEBHOOKS
    }
    assert {tool.name for tool in info.manifest.mcp_tools} == {
        "app_hooks_add_numbers",
        "app_hooks_greet",
        "app_hooks_explode",
    }
    assert any(
        "no good" in warning
        for warning in scan_sources(
            {"hot/src/odd.hot": (root / "hot" / "src" / "odd.hot").read_text()}
        ).warnings
    )

    upload = SimpleUploadedFile("b.zip", written.data)
    response = api.post(
        "/v1/projects/billing/builds",
        {"file": upload, "hash": written.bundle_hash},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
