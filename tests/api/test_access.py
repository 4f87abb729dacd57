"""The permission model (hotapi.access): validation, matching, the subset rule."""

import pytest

from hotapi.access import Credential, Permissions
from hotapi.errors import Forbidden, InvalidInput


def perms(grants: dict) -> Permissions:
    return Permissions.parse(grants)


@pytest.mark.parametrize(
    ("grants", "resource", "action", "allowed"),
    [
        ({"*:*": ["*"]}, "context:*", "delete", True),
        ({"*:*": ["read"]}, "stream:abc", "read", True),
        ({"*:*": ["read"]}, "event:x", "create", False),
        ({"stream:abc": ["read"]}, "stream:abc", "read", True),
        ({"stream:abc": ["read"]}, "stream:abd", "read", False),
        ({"event:order:*": ["create"]}, "event:order:placed", "create", True),
        ({"event:order:*": ["create"]}, "event:user:new", "create", False),
        ({"event:*": ["*"]}, "event:anything", "read", True),
        ({"event:*": ["*"]}, "stream:x", "read", False),
        ({"mcp:weather/*": ["execute"]}, "mcp:weather/forecast", "execute", True),
        ({"mcp:weather/*": ["execute"]}, "mcp:time/now", "execute", False),
        ({}, "env:*", "read", False),
    ],
)
def test_matching(grants, resource, action, allowed):
    assert perms(grants).allows(resource, action) is allowed


@pytest.mark.parametrize(
    ("grants", "kind", "action", "covered"),
    [
        ({"*:*": ["*"]}, "run", "read", True),
        ({"run:*": ["read"]}, "run", "read", True),
        ({"run:abc": ["read"]}, "run", "read", False),
        ({"run:**": ["read"]}, "run", "read", False),
        ({"run:*": ["update"]}, "run", "read", False),
    ],
)
def test_covers_type(grants, kind, action, covered):
    assert perms(grants).covers_type(kind, action) is covered


@pytest.mark.parametrize(
    "grants",
    [
        [],
        {"no-colon": ["read"]},
        {"": ["read"]},
        {"*": ["read"]},
        {"*:foo": ["read"]},
        {":path": ["read"]},
        {"mcp:": ["execute"]},
        {"mcp!:x": ["execute"]},
        {"mcp:x": []},
        {"mcp:x": "execute"},
        {"mcp:x": ["Execute"]},
        {"mcp:x": ["destroy"]},
        {"mcp:x": ["create"]},
        {"stream:x": ["execute"]},
        {"event:x": ["delete"]},
        {"project:billing": ["read"]},
    ],
)
def test_invalid_maps(grants):
    with pytest.raises(InvalidInput):
        Permissions.parse(grants)


def test_valid_maps_and_unknown_types():
    assert perms({"custom-thing:x": ["read"], "run:*": ["update", "execute"]}).allows(
        "custom-thing:x", "read"
    )
    with pytest.raises(InvalidInput, match="not allowed for this credential"):
        Permissions.parse({"project:*": ["read"]}, allowed_types=("stream", "event"))


@pytest.mark.parametrize(
    ("parent", "child", "ok"),
    [
        ({"*:*": ["*"]}, {"*:*": ["*"]}, True),
        ({"mcp:*": ["execute"]}, {"mcp:weather/*": ["*"]}, True),
        ({"event:*": ["read"]}, {"event:order:*": ["*"]}, False),
        ({"mcp:weather/*": ["execute"]}, {"mcp:time/now": ["execute"]}, False),
        ({"event:order:placed": ["read"]}, {"event:order:*": ["read"]}, False),
        ({}, {}, True),
        ({}, {"stream:x": ["read"]}, False),
    ],
)
def test_subset_rule(parent, child, ok):
    if ok:
        perms(child).check_subset_of(perms(parent))
    else:
        with pytest.raises(Forbidden) as excinfo:
            perms(child).check_subset_of(perms(parent))
        assert excinfo.value.code == "permission_escalation"


def test_credential_needs_both_its_map_and_its_issuers():
    credential = Credential(
        kind="session",
        id=None,
        environment=None,
        api_key=None,
        permissions=perms({"*:*": ["*"]}),
        parent_permissions=perms({"run:*": ["read"]}),
    )
    assert credential.allows("run:x", "read") and credential.covers_type("run", "read")
    assert not credential.allows("event:x", "create")
    assert not credential.covers_type("event", "create")
