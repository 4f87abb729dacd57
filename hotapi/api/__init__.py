"""Shared DRF plumbing: envelopes, pagination, errors, request ids, API-key auth, throttling."""
