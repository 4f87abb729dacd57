"""Per-environment request quota: an atomic fixed-window counter in the shared cache.

DRF's SimpleRateThrottle reads, modifies and writes the history, which overshoots under
concurrency; ``cache.incr`` is atomic in Redis (and in local memory within one process). With
the embedded local-memory cache the count is per web process; set REDIS_URL to share it.
"""

import time

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

WINDOW_SECONDS = 3600


class EnvironmentRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        api_key = request.auth
        if api_key is None:
            return True
        environment = api_key.environment
        limit = environment.requests_per_hour
        if limit <= 0:
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"hot:rate:{environment.pk}:{window}"
        cache.add(key, 0, WINDOW_SECONDS + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, WINDOW_SECONDS + 5)
            count = 1
        self._wait = (window + 1) * WINDOW_SECONDS - now
        return count <= limit

    def wait(self) -> float:
        return self._wait
