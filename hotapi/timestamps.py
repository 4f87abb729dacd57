"""The one timestamp format of the service: RFC 3339 in UTC with a ``Z`` suffix."""

from datetime import UTC, datetime

from django.utils import timezone


def utc_timestamp(value: datetime | None = None) -> str:
    """``value`` (default: now) as every timestamp in the API, the stream log and Hot
    arguments is written."""
    value = value or timezone.now()
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
