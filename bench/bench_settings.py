"""Bench-only settings: the service's settings plus one bare Django view (bench/bench_urls.py).

Serve with ``DJANGO_SETTINGS_MODULE=bench.bench_settings``; everything else (middleware,
database, cache, DRF stack) is exactly the service's configuration.
"""

from hotapi.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
