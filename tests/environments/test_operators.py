"""Operators manage API keys without the admin (listapikeys, revokeapikey, createapikey
--permissions) and list and revoke sessions and service keys in the admin."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from environments.models import ApiKey, ServiceKey, Session
from environments.services import (
    api_key_issue,
    credential_authenticate,
    service_key_create,
    session_create,
    sessions_prune,
)

pytestmark = pytest.mark.django_db


def run(command: str, *args) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_createapikey_with_permissions(environment):
    token = run(
        "createapikey", "--env", "testing", "--permissions", json.dumps({"event:*": ["create"]})
    ).strip()
    credential = credential_authenticate(token)
    assert credential.permissions.allows("event:x", "create")
    assert not credential.permissions.allows("project:*", "read")
    with pytest.raises(CommandError, match="not JSON"):
        run("createapikey", "--env", "testing", "--permissions", "{nope")
    with pytest.raises(CommandError, match="Invalid permissions"):
        run("createapikey", "--env", "testing", "--permissions", '{"stream:*": ["write"]}')


def test_listapikeys_shows_keys_but_never_secrets(environment, other_environment):
    issued = api_key_issue(environment=environment, name="ci")
    other = api_key_issue(environment=other_environment, name="elsewhere")
    output = run("listapikeys")
    assert str(issued.api_key.id) in output and str(other.api_key.id) in output
    assert "default/testing" in output and "*:* *" in output and "never" in output
    assert issued.token.split("_")[2] not in output
    only_testing = run("listapikeys", "--env", "testing")
    assert str(other.api_key.id) not in only_testing


def test_revokeapikey_by_id_or_token(environment):
    issued = api_key_issue(environment=environment, name="ci")
    session = session_create(api_key=issued.api_key, permissions={"env:*": ["read"]})
    output = run("revokeapikey", issued.token)  # only the id part is read
    assert "Revoked API key" in output and issued.token.split("_")[2] not in output
    assert credential_authenticate(issued.token) is None
    assert credential_authenticate(session.token) is None  # its sessions stop with it
    assert "already revoked" in run("revokeapikey", str(issued.api_key.id))
    (listed,) = [line for line in run("listapikeys", "--all").splitlines() if "ci" in line]
    assert str(issued.api_key.id) in listed and "revoked" in listed
    with pytest.raises(CommandError, match="No API keys match"):
        run("listapikeys", "--env", "testing")


@pytest.mark.parametrize("reference", ["nope", "hot_zz_", "0" * 31])
def test_revokeapikey_bad_references_are_clean_errors(environment, reference):
    with pytest.raises(CommandError, match="Not an API key id"):
        run("revokeapikey", reference)


def test_revokeapikey_unknown_key(environment):
    with pytest.raises(CommandError, match="No API key with id"):
        run("revokeapikey", "0" * 32)


def test_admin_lists_and_revokes_sessions_and_service_keys(admin_client, environment):
    issuer = api_key_issue(environment=environment, name="issuer").api_key
    session = session_create(api_key=issuer, permissions={"env:*": ["read"]})
    service_key = service_key_create(api_key=issuer, permissions={"run:*": ["read"]}, name="acme")
    assert admin_client.get("/admin/environments/session/").status_code == 200
    page = admin_client.get("/admin/environments/servicekey/").content.decode()
    assert "acme" in page and "active" in page
    for model, row in (("session", session.session), ("servicekey", service_key.service_key)):
        response = admin_client.post(
            f"/admin/environments/{model}/",
            {"action": "revoke", "_selected_action": [str(row.pk)]},
        )
        assert response.status_code == 302
    assert credential_authenticate(session.token) is None
    assert credential_authenticate(service_key.token) is None
    assert Session.objects.get().revoked_at and ServiceKey.objects.get().revoked_at


def test_admin_validates_api_key_permissions(admin_client, environment):
    response = admin_client.post(
        "/admin/environments/apikey/add/",
        {"environment": environment.pk, "name": "bad", "permissions": '{"stream:*": ["write"]}'},
    )
    assert response.status_code == 200 and "Invalid permissions" in response.content.decode()
    response = admin_client.post(
        "/admin/environments/apikey/add/",
        {"environment": environment.pk, "name": "ok", "permissions": '{"event:*": ["read"]}'},
    )
    assert response.status_code == 200  # the one-time page that shows the new token
    assert "hot_" in response.content.decode()
    assert ApiKey.objects.get(name="ok").permissions == {"event:*": ["read"]}


def test_old_sessions_are_pruned(environment, settings):
    issuer = api_key_issue(environment=environment).api_key
    keep = session_create(api_key=issuer, permissions={}).session
    old = session_create(api_key=issuer, permissions={}).session
    Session.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=8))
    assert sessions_prune() == 1
    assert list(Session.objects.values_list("pk", flat=True)) == [keep.pk]
    assert sessions_prune() == 0
