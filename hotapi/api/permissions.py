from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from .authentication import INVALID_KEY_MESSAGE


class HasEnvironmentScope(BasePermission):
    """The request carries a valid API key; every query is then scoped to its environment."""

    def has_permission(self, request, view) -> bool:
        if request.auth is None:
            raise exceptions.NotAuthenticated(INVALID_KEY_MESSAGE)
        return True
