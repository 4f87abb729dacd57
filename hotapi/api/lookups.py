"""Parse path identifiers once, so a malformed id reads as 404 rather than a 500."""

import uuid


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, AttributeError, TypeError):
        return None
