"""The single exception type raised by the bundle inspection layer."""

from __future__ import annotations

# Error codes, grouped so the HTTP layer can map them without string matching.
# Size/limit violations are the ones an API may prefer to answer with 413.
LIMIT_CODES = frozenset(
    {
        "too_many_entries",
        "file_too_large",
        "bundle_too_large",
        "compression_ratio",
        "manifest_too_large",
    }
)


class BundleError(Exception):
    """A bundle was rejected.

    ``code`` is a stable machine-readable identifier (snake_case); ``message`` is
    a sentence meant for the person who uploaded the bundle and names the
    offending entry, function or value whenever there is one.
    """

    def __init__(self, code: str, message: str, *, entry: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.entry = entry

    @property
    def is_limit(self) -> bool:
        """True when the bundle was rejected for exceeding a size or count limit."""
        return self.code in LIMIT_CODES

    def __repr__(self) -> str:
        return f"BundleError({self.code!r}, {self.message!r})"
