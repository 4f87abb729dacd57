"""The service's version, reported by /status."""

__version__ = "0.1.0"
