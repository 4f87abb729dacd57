"""Reads on context variables (metadata only: values are decrypted by the services, for the
runtime)."""

from django.db.models import QuerySet

from hotapi.errors import NotFound

from .models import ContextVariable


def context_list(*, project) -> QuerySet[ContextVariable]:
    return ContextVariable.objects.filter(project=project).order_by("key")


def context_get(*, project, key: str) -> ContextVariable:
    variable = ContextVariable.objects.filter(project=project, key=key).first()
    if variable is None:
        raise NotFound("Context variable not found")
    return variable


def context_keys_present(*, project_id, keys: list[str]) -> set[str]:
    """Which of ``keys`` are set on the project."""
    return set(
        ContextVariable.objects.filter(project_id=project_id, key__in=keys).values_list(
            "key", flat=True
        )
    )
