"""What a credential may do, checked in one place for every API request.

Each view declares what each of its actions needs (``permission_rules``: viewset action or
HTTP method → ``needs(...)``); ``DeclaredPermissions``, the default permission class, checks
the request's credential against it before the view runs. A route whose action has no
declaration fails closed (500, and ``manage.py check`` names it), so a new endpoint cannot be
open by omission.

    permission_rules = {
        "list": needs("event", "read"),
        "create": needs("event", "create", path=body_field("event_type")),
        "retrieve": needs("run", "read", path=url_id("run_id")),
        "revoke": needs("session", "delete", api_key_only=True),
    }

A requirement names a resource ``type:path`` and an action (see ``hotapi.access``). Its path is
``*`` (the whole type) or read from the request: a URL argument, a body field. Rules combine
with ``&``: every requirement must hold.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from hotapi.access import WILDCARD

from .authentication import INVALID_KEY_MESSAGE

# (request, view) -> the path, or the paths of several resources that must all be allowed
PathOf = Callable[[object, object], str | list[str]]


@dataclass(frozen=True)
class Requirement:
    resource_type: str
    action: str
    path: str | PathOf = WILDCARD

    def resources(self, request, view) -> list[str]:
        paths = self.path(request, view) if callable(self.path) else self.path
        return [f"{self.resource_type}:{path}" for path in _as_list(paths)]


def _as_list(paths: str | list[str]) -> list[str]:
    return paths if isinstance(paths, list) else [paths]


@dataclass(frozen=True)
class Rule:
    requirements: tuple[Requirement, ...]
    api_key_only: bool = False

    def __and__(self, other: "Rule") -> "Rule":
        return Rule(self.requirements + other.requirements, self.api_key_only or other.api_key_only)

    def describe(self) -> str:
        """``event:<event_type> create & stream:* read`` (documentation and errors)."""
        parts = []
        for requirement in self.requirements:
            path = getattr(requirement.path, "label", requirement.path)
            parts.append(f"{requirement.resource_type}:{path} {requirement.action}")
        return " & ".join(parts) + (" (API keys only)" if self.api_key_only else "")


def needs(resource_type: str, action: str, *, path: str | PathOf = WILDCARD, api_key_only=False):
    """The action needs ``action`` on ``resource_type:path``. ``api_key_only``: sessions and
    service keys are refused whatever they hold (managing credentials)."""
    return Rule((Requirement(resource_type, action, path),), api_key_only)


def _labelled(label: str, function: PathOf) -> PathOf:
    function.label = label
    return function


def _canonical(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (TypeError, ValueError, AttributeError):
        return str(value)


def url_id(kwarg: str) -> PathOf:
    """The URL argument ``kwarg`` (a UUID in canonical form)."""
    return _labelled(f"<{kwarg}>", lambda request, view: _canonical(view.kwargs[kwarg]))


def _body(request) -> dict:
    data = request.data
    if not isinstance(data, dict):
        raise exceptions.ValidationError({"non_field_errors": ["Expected a JSON object"]})
    return data


def body_field(field: str) -> PathOf:
    """A required string field of the JSON body (400 when it is missing)."""

    def path(request, view) -> str:
        value = _body(request).get(field)
        if not isinstance(value, str) or not value:
            raise exceptions.ValidationError({field: ["This field is required."]})
        return value

    return _labelled(f"<{field}>", path)


def body_items_field(items: str, field: str) -> PathOf:
    """``field`` of every object in the list ``items`` of the JSON body (a batch): each must
    be allowed. Malformed items are left to the view's validation, which answers per item."""

    def paths(request, view) -> list[str]:
        listed = _body(request).get(items)
        if not isinstance(listed, list):
            raise exceptions.ValidationError({items: ["Expected a list of objects"]})
        values = {item.get(field) for item in listed if isinstance(item, dict)}
        return sorted(value for value in values if isinstance(value, str) and value)

    return _labelled(f"<{items}[].{field}>", paths)


def body_id(field: str) -> PathOf:
    """An optional UUID field of the JSON body; without it the request makes a new one, which
    only a grant on the whole type covers (``*``)."""

    def path(request, view) -> str:
        value = _body(request).get(field)
        return WILDCARD if value in (None, "") else _canonical(value)

    return _labelled(f"<{field}>", path)


def rule_for(view, request) -> tuple[bool, Rule | None]:
    """(handled, rule): whether the view serves this request's method, and its rule."""
    rules = getattr(view, "permission_rules", {})
    if hasattr(view, "action_map"):  # a viewset: rules by action
        action = getattr(view, "action", None)
        return action is not None, rules.get(action)
    method = request.method.lower()
    if method == "head" and "head" not in rules:
        method = "get"
    return hasattr(view, request.method.lower()), rules.get(method)


class DeclaredPermissions(BasePermission):
    """The credential holds what the view's rule for this action needs (else 403)."""

    def has_permission(self, request, view) -> bool:
        credential = request.auth
        if credential is None:
            raise exceptions.NotAuthenticated(INVALID_KEY_MESSAGE)
        handled, rule = rule_for(view, request)
        if not handled or request.method == "OPTIONS":
            return True  # 405 or the schema metadata follow; no action of the view runs
        if rule is None:
            raise ImproperlyConfigured(
                f"{type(view).__name__} declares no permission for {request.method} {request.path}"
            )
        if rule.api_key_only and not credential.is_api_key:
            raise exceptions.PermissionDenied(
                "Only API keys can do this; sessions and service keys cannot manage credentials"
            )
        for requirement in rule.requirements:
            if credential.covers_type(requirement.resource_type, requirement.action):
                continue  # granted for every resource of the type: no need to read the path
            for resource in requirement.resources(request, view):
                if not credential.allows(resource, requirement.action):
                    raise exceptions.PermissionDenied(
                        f"This token lacks '{requirement.action}' on '{resource}'"
                    )
        return True
