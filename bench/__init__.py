"""Benchmarks of the Hot API service (see bench/README.md). Not part of the served app."""
