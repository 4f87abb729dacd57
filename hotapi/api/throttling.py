"""Per-environment request quota: an atomic fixed-window counter.

DRF's SimpleRateThrottle reads, modifies and writes the history, which overshoots under
concurrency. With ``REDIS_URL`` the count is one pipelined ``INCR`` + ``EXPIRE NX`` on a
process-wide client (Django's cache would open a connection per request thread under ASGI);
without Redis it is ``cache.incr`` in local memory, i.e. per web process.
"""

import time

from django.conf import settings
from django.core.cache import cache as local_cache
from rest_framework.throttling import BaseThrottle

from hotapi.redis_client import redis_client

WINDOW_SECONDS = 3600


def _count_in_window(key: str) -> int:
    if settings.REDIS_URL:
        pipeline = redis_client().pipeline(transaction=False)
        pipeline.incr(key)
        pipeline.expire(key, WINDOW_SECONDS + 5, nx=True)
        count, _ = pipeline.execute()
        return count
    local_cache.add(key, 0, WINDOW_SECONDS + 5)
    try:
        return local_cache.incr(key)
    except ValueError:  # expired between add and incr
        local_cache.add(key, 1, WINDOW_SECONDS + 5)
        return 1


def _window_key(environment_id, now: float) -> tuple[str, int]:
    window = int(now // WINDOW_SECONDS)
    return f"hot:rate:{environment_id}:{window}", window


def requests_this_hour(environment_id) -> int:
    """Requests counted in the current window (without Redis: this web process's count)."""
    key, _ = _window_key(environment_id, time.time())
    if settings.REDIS_URL:
        return int(redis_client().get(key) or 0)
    return local_cache.get(key, 0)


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
        key, window = _window_key(environment.pk, now)
        count = _count_in_window(key)
        self._wait = (window + 1) * WINDOW_SECONDS - now
        return count <= limit

    def wait(self) -> float:
        return self._wait
