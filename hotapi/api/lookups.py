"""Parse path identifiers once, so a malformed id reads as 404 rather than a 500."""

import uuid

from hotapi.errors import NotFound


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, AttributeError, TypeError):
        return None


def get_by_id_or_404(queryset, raw_id, message: str):
    """The row of ``queryset`` whose primary key is ``raw_id``; a malformed or unknown id (or
    one outside the queryset's scope) is 404 with ``message``."""

    parsed = parse_uuid(raw_id)
    row = queryset.filter(pk=parsed).first() if parsed else None
    if row is None:
        raise NotFound(message)
    return row
