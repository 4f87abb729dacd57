"""Bench-only settings for ``bench/publish_rps.py``: the service's settings with the service's
URLs plus a bare event-inserting view (``bench/events_bench_urls.py``)."""

from hotapi.settings import *  # noqa: F403

ROOT_URLCONF = "bench.events_bench_urls"
