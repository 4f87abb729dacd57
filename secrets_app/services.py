"""Writes on context variables: create, update, delete; decryption for the runtime; key
rotation."""

from django.db import IntegrityError, transaction

from hotapi.errors import Conflict

from .crypto import decrypt_value, encrypt_value, keyring
from .models import ContextVariable
from .selectors import context_get, context_list

UNSET = object()


def _seal(variable: ContextVariable, value: str) -> None:
    variable.ciphertext, variable.key_id = encrypt_value(
        environment_id=variable.project.environment_id,
        project_id=variable.project_id,
        name=variable.key,
        plaintext=value,
    )


def context_create(*, project, key: str, value: str, description: str | None = None):
    variable = ContextVariable(project=project, key=key, description=description)
    _seal(variable, value)
    try:
        with transaction.atomic():
            variable.save()
    except IntegrityError:
        raise Conflict(f"Context variable '{key}' already exists") from None
    return variable


def context_update(*, project, key: str, value: str, description=UNSET) -> ContextVariable:
    """Replace the value. An omitted description keeps the current one; null clears it."""
    with transaction.atomic():
        variable = context_get(project=project, key=key)
        _seal(variable, value)
        fields = ["ciphertext", "key_id", "updated_at"]
        if description is not UNSET:
            variable.description = description
            fields.append("description")
        variable.save(update_fields=fields)
    return variable


def context_delete(*, project, key: str) -> None:
    context_get(project=project, key=key).delete()


def decrypt_variable(variable: ContextVariable) -> str:
    return decrypt_value(
        environment_id=variable.project.environment_id,
        project_id=variable.project_id,
        name=variable.key,
        blob=variable.ciphertext,
        key_id=variable.key_id,
    )


def context_values_for_project(*, project) -> dict[str, str]:
    """Decrypted values for code running in ``project``. Only the runtime calls this; the
    result must never be logged or returned."""
    variables = context_list(project=project).select_related("project")
    return {variable.key: decrypt_variable(variable) for variable in variables}


def context_rotate_all(*, batch_size: int = 500) -> int:
    """Re-encrypt every value not sealed by the primary master key. Returns how many."""
    primary_id, _ = keyring()
    rotated = 0
    while True:
        with transaction.atomic():
            batch = list(
                ContextVariable.objects.select_for_update()
                .select_related("project")
                .exclude(key_id=primary_id)
                .order_by("id")[:batch_size]
            )
            if not batch:
                return rotated
            for variable in batch:
                _seal(variable, decrypt_variable(variable))
            ContextVariable.objects.bulk_update(batch, ["ciphertext", "key_id"])
            rotated += len(batch)
