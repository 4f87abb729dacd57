"""Domain errors: what services, selectors and tasks raise when a rule is not met.

They know nothing about HTTP. The API core (``hotapi.api.exceptions``) maps each kind to a
status and the error envelope; the admin and management commands catch them as they are.
``code`` is the stable machine-readable code clients see; ``details`` maps a field name to its
messages.
"""


class DomainError(Exception):
    code = "bad_request"
    default_message = "The request cannot be carried out"

    def __init__(self, message: str | None = None, *, code: str | None = None, details=None):
        self.message = message or self.default_message
        self.code = code or self.code
        self.details = details
        super().__init__(self.message)


class InvalidInput(DomainError):
    """The input breaks a rule (400)."""


class NotFound(DomainError):
    """The thing does not exist in the caller's scope (404)."""

    code = "not_found"
    default_message = "Not found"


class Conflict(DomainError):
    """The request clashes with the current state (409)."""

    code = "conflict"
    default_message = "Conflict"


class Forbidden(DomainError):
    """The caller may not do this, whoever they are (403)."""

    code = "forbidden"
    default_message = "Forbidden"


class TooLarge(DomainError):
    """A size limit or a storage quota would be exceeded (413)."""

    code = "payload_too_large"
    default_message = "Request body is too large"


class LimitExceeded(DomainError):
    """A count limit is reached (open streams of a key, active sessions…); the caller must
    release something first (429)."""

    code = "limit_exceeded"
    default_message = "Limit exceeded"
