"""The service's version and this process's start time, reported by /status."""

from datetime import UTC, datetime

__version__ = "0.1.0"

# Imported with the hotapi package, i.e. when the process loads its settings: the start of
# the process as far as serving is concerned (not the first request).
PROCESS_START = datetime.now(UTC)
