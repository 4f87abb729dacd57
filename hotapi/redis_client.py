"""The process's Redis client (rate-limit counters, stream wake-ups), when REDIS_URL is set.

One client per process: its connection pool is thread-safe and shared by request threads, the
stream hub and the workers' hooks, instead of a connection per caller.
"""

from functools import cache

import redis
from django.conf import settings


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)
