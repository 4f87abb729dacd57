"""The permission model every credential carries: a map of resource patterns to actions.

``{"event:order:*": ["create"], "stream:*": ["read"], "*:*": ["*"]}``: a resource is
``type:path``; a pattern matches a resource exactly, or by prefix when it ends in ``*``
(``event:order:*`` covers ``event:order:placed``), and ``*:*`` covers everything. The action
``*`` stands for every action valid for the type. Types, actions and the validation rules are
the reference Hot server's, so permission maps written for it mean the same here; the few
extensions (``run`` update/execute, ``domain``, ``org``, ``file``, ``blob``) are marked below.

Pure logic: no Django, no database. Credentials hold a ``Permissions``; the API core's
permission class asks ``allows`` on every request.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hotapi.errors import Forbidden, InvalidInput

CREATE, READ, UPDATE, DELETE, EXECUTE = "create", "read", "update", "delete", "execute"
WILDCARD = "*"
ALL_ACTIONS = (CREATE, READ, UPDATE, DELETE, EXECUTE)

# Valid actions per resource type. Unknown types accept any action (as the reference server:
# new types can be granted before a server knows them).
RESOURCE_ACTIONS: dict[str, tuple[str, ...]] = {
    "mcp": (EXECUTE,),
    "webhook": (EXECUTE,),
    "stream": (READ,),
    "event": (CREATE, READ),
    # Extension: cancelling a run is an update, rerunning it an execute.
    "run": (READ, UPDATE, EXECUTE),
    "project": (CREATE, READ, UPDATE, DELETE),
    "build": (CREATE, READ, EXECUTE),
    "context": (CREATE, READ, UPDATE, DELETE),
    "key": (CREATE, READ, UPDATE, DELETE),
    "session": (CREATE, READ, DELETE),
    "env": (READ,),
    # Extensions: custom domains and the organization's usage.
    "domain": (CREATE, READ, UPDATE, DELETE),
    "org": (READ,),
    # Extensions: stored files (writing one, new or not, is create) and the blobs that hold
    # large payloads.
    "file": (CREATE, READ, DELETE),
    "blob": (READ,),
    # Extension: schedules (pause, resume and settings are updates, trigger now an execute).
    "schedule": (READ, UPDATE, EXECUTE),
}

# Service keys are handed to customers and integrations: only these types (no ``*:*``).
SERVICE_KEY_TYPES = ("mcp", "webhook", "stream", "event", "run")

# Types the API checks per resource (a stream id, an event type, a run id, a tool). The others
# are administrative and checked for the whole type, so only ``<type>:*`` can grant them.
PER_RESOURCE_TYPES = frozenset(SERVICE_KEY_TYPES)

FULL_ACCESS = {"*:*": ["*"]}

_TYPE_PATTERN = re.compile(r"^[A-Za-z0-9-]+$")


def resource_type(resource: str) -> str | None:
    """The type of a ``type:path`` resource (``*`` for ``*:*``), or None when malformed."""
    if resource == "*:*":
        return WILDCARD
    kind, colon, path = resource.partition(":")
    if not colon or not path or not kind or kind == WILDCARD or not _TYPE_PATTERN.match(kind):
        return None
    return kind


def _pattern_matches(pattern: str, resource: str) -> bool:
    if pattern == "*:*" or pattern == resource:
        return True
    return pattern.endswith("*") and resource.startswith(pattern[:-1])


def _expand(kind: str, action: str) -> tuple[str, ...]:
    if action != WILDCARD:
        return (action,)
    return RESOURCE_ACTIONS.get(kind, ALL_ACTIONS)


@dataclass(frozen=True)
class Permissions:
    """A validated permission map (``grants``: resource pattern → actions)."""

    grants: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_stored(cls, value) -> "Permissions":
        """A map read back from the database (validated when it was written)."""
        return cls({resource: tuple(actions) for resource, actions in (value or {}).items()})

    @classmethod
    def parse(cls, value, *, allowed_types: Iterable[str] | None = None) -> "Permissions":
        """Validate untrusted input; ``InvalidInput`` names the first problem."""
        if not isinstance(value, dict):
            raise _invalid("permissions must be an object of resource → list of actions")
        allowed = None if allowed_types is None else tuple(allowed_types)
        grants = {}
        for resource, actions in value.items():
            grants[resource] = _validated_actions(resource, actions, allowed)
        return cls(grants)

    def as_json(self) -> dict[str, list[str]]:
        return {resource: list(actions) for resource, actions in self.grants.items()}

    def allows(self, resource: str, action: str) -> bool:
        for pattern, actions in self.grants.items():
            if (WILDCARD in actions or action in actions) and _pattern_matches(pattern, resource):
                return True
        return False

    def covers_type(self, kind: str, action: str) -> bool:
        """Whether ``action`` is granted on every resource of type ``kind``."""
        whole = f"{kind}:"
        for pattern, actions in self.grants.items():
            if not (WILDCARD in actions or action in actions):
                continue
            if pattern == "*:*" or (pattern.endswith("*") and whole.startswith(pattern[:-1])):
                return True
        return False

    def check_subset_of(self, parent: "Permissions") -> None:
        """Raise ``Forbidden(permission_escalation)`` unless ``parent`` grants everything this
        map grants (a wildcard action counts as every action valid for the type)."""
        for resource, actions in self.grants.items():
            kind = resource_type(resource) or WILDCARD
            for action in actions:
                for concrete in _expand(kind, action):
                    if not parent.allows(resource, concrete):
                        raise Forbidden(
                            f"Requested permissions exceed the API key's: '{concrete}' on "
                            f"'{resource}' is not granted to the key",
                            code="permission_escalation",
                        )


API_KEY, SESSION, SERVICE_KEY = "api_key", "session", "service_key"


@dataclass(frozen=True)
class Credential:
    """Who is calling: ``request.auth`` on every authenticated API request.

    ``api_key`` is the key itself or the API key that issued the session or service key;
    ``environment`` scopes every query. A session or service key also carries its issuing
    key's current permissions: it may never do more than that key may do now.
    """

    kind: str
    id: object
    environment: object
    api_key: object
    permissions: Permissions
    parent_permissions: Permissions | None = None

    @property
    def is_api_key(self) -> bool:
        return self.kind == API_KEY

    def allows(self, resource: str, action: str) -> bool:
        if not self.permissions.allows(resource, action):
            return False
        return self.parent_permissions is None or self.parent_permissions.allows(resource, action)

    def covers_type(self, kind: str, action: str) -> bool:
        if not self.permissions.covers_type(kind, action):
            return False
        parent = self.parent_permissions
        return parent is None or parent.covers_type(kind, action)


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(f"Invalid permissions: {message}", details={"permissions": [message]})


def _validated_actions(resource, actions, allowed_types) -> tuple[str, ...]:
    kind = resource_type(resource) if isinstance(resource, str) else None
    if kind is None:
        raise _invalid(
            f"invalid resource {resource!r}: expected type:path (e.g. stream:*, event:order:*)"
        )
    if allowed_types is not None and kind not in allowed_types:
        raise _invalid(
            f"resource type '{kind}' is not allowed for this credential "
            f"(allowed: {', '.join(allowed_types)})"
        )
    path = resource.partition(":")[2]
    if kind in RESOURCE_ACTIONS and kind not in PER_RESOURCE_TYPES and path != WILDCARD:
        raise _invalid(
            f"'{kind}' permissions apply to every {kind} of the environment: use '{kind}:*'"
        )
    if not isinstance(actions, list) or not actions:
        raise _invalid(f"resource '{resource}' needs a non-empty list of actions")
    for action in actions:
        if action != WILDCARD and action not in ALL_ACTIONS:
            raise _invalid(
                f"invalid action {action!r} (valid: create, read, update, delete, execute, *)"
            )
        valid = RESOURCE_ACTIONS.get(kind)
        if action != WILDCARD and kind != WILDCARD and valid and action not in valid:
            raise _invalid(
                f"action '{action}' is not valid for '{resource}' (valid: {', '.join(valid)})"
            )
    return tuple(dict.fromkeys(actions))
