"""Encryption at rest, decryption for the runtime, and master-key rotation."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from projects.models import Project
from secrets_app import crypto
from secrets_app.models import ContextVariable
from secrets_app.services import context_create, context_values_for_project

pytestmark = pytest.mark.django_db

NEW_KEY = "c3" * 32


def test_runtime_decryption(project):
    context_create(project=project, key="A", value="alpha")
    context_create(project=project, key="B", value="béta ✓")
    assert context_values_for_project(project=project) == {"A": "alpha", "B": "béta ✓"}


def test_blob_layout_and_fresh_nonces(project):
    first = context_create(project=project, key="A", value="same")
    second = context_create(project=project, key="B", value="same")
    a, b = bytes(first.ciphertext), bytes(second.ciphertext)
    assert len(a) == 12 + len("same") + 16
    assert a[:12] != b[:12]
    assert first.key_id == crypto.keyring()[0]


def test_ciphertext_is_bound_to_its_row(project, environment):
    variable = context_create(project=project, key="A", value="alpha")
    other = Project.objects.create(environment=environment, name="other")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_value(
            environment_id=environment.id,
            project_id=other.id,
            name="A",
            blob=variable.ciphertext,
            key_id=variable.key_id,
        )
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_value(
            environment_id=environment.id,
            project_id=project.id,
            name="B",
            blob=variable.ciphertext,
            key_id=variable.key_id,
        )
    tampered = bytearray(variable.ciphertext)
    tampered[-1] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_value(
            environment_id=environment.id,
            project_id=project.id,
            name="A",
            blob=bytes(tampered),
            key_id=variable.key_id,
        )


def test_environments_use_different_derived_keys(project, other_environment):
    master = bytes.fromhex(crypto.keyring()[1][crypto.keyring()[0]].hex())
    a = crypto._environment_cipher(master, str(project.environment_id))
    b = crypto._environment_cipher(master, str(other_environment.id))
    nonce = b"\0" * 12
    assert a.encrypt(nonce, b"x", None) != b.encrypt(nonce, b"x", None)


def test_rotation_keeps_every_value_readable(project, settings, capsys):
    old_key = settings.HOT_ENCRYPTION_KEY
    for index in range(7):
        context_create(project=project, key=f"K{index}", value=f"value-{index}")
    old_id = crypto.keyring()[0]

    settings.HOT_ENCRYPTION_KEY = NEW_KEY
    settings.HOT_ENCRYPTION_OLD_KEYS = [old_key]
    new_id = crypto.keyring()[0]
    assert new_id != old_id
    assert context_values_for_project(project=project)["K3"] == "value-3"  # old still readable

    call_command("rotate_encryption_key", "--batch-size", "3")
    assert "Re-encrypted 7" in capsys.readouterr().out
    assert set(ContextVariable.objects.values_list("key_id", flat=True)) == {new_id}

    settings.HOT_ENCRYPTION_OLD_KEYS = []  # old key retired
    values = context_values_for_project(project=project)
    assert values == {f"K{index}": f"value-{index}" for index in range(7)}


def test_rotation_refuses_when_a_key_is_missing(project, settings):
    context_create(project=project, key="A", value="alpha")
    settings.HOT_ENCRYPTION_KEY = NEW_KEY
    with pytest.raises(SystemExit):
        call_command("rotate_encryption_key")
    assert ContextVariable.objects.get().key_id != crypto.keyring()[0]


@pytest.mark.parametrize("bad", ["", "abc", "zz" * 32, "00" * 31])
def test_malformed_master_key_is_refused(settings, bad):
    settings.HOT_ENCRYPTION_KEY = bad
    with pytest.raises(ImproperlyConfigured):
        crypto.keyring()


def test_serving_refuses_without_key(settings):
    from hotapi.checks import ensure_serving_configuration

    settings.HOT_ENCRYPTION_KEY = None
    with pytest.raises(ImproperlyConfigured):
        ensure_serving_configuration()
